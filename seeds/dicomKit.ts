import { dcmjs, type DicomDataset } from '../src/dicom/index.js';

/** dcmjs's naturalised form: keyword → value (the slice of its API the seed uses). */
type Natural = Record<string, unknown>;
const meta = dcmjs.data.DicomMetaDictionary as unknown as { denaturalizeDataset(ds: Natural): DicomDataset };

export const SOP_CLASS = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  SECONDARY_CAPTURE: '1.2.840.10008.5.1.4.1.1.7',
} as const;

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** The seed's implementation identity in the File Meta (a UUID-derived UID, as PS3.5 B.2 allows). */
const IMPLEMENTATION_CLASS_UID = '2.25.302436553981745932917130125331526716139';

function part10(dict: DicomDataset, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Buffer {
  const fileMeta: DicomDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClassUid] },
    '00020003': { vr: 'UI', Value: [sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: ['OBIA_HUB_SEED'] },
  };
  const file = new dcmjs.data.DicomDict(fileMeta);
  file.dict = dict;
  return Buffer.from(file.write());
}

/**
 * A native (Explicit VR Little Endian) image from keyword attributes and its pixel values,
 * 8- or 16-bit unsigned as BitsAllocated says.
 */
export function writeImage(attributes: Natural, pixels: Uint8Array | Uint16Array): Buffer {
  const dict = meta.denaturalizeDataset(attributes);
  const bytes = pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength);
  dict['7FE00010'] = { vr: pixels instanceof Uint16Array ? 'OW' : 'OB', Value: [bytes] };
  return part10(dict, String(attributes.SOPClassUID), String(attributes.SOPInstanceUID), EXPLICIT_VR_LITTLE_ENDIAN);
}

/**
 * A received DICOM file placed into a seed patient's study: the given attributes (keyword →
 * value) replace the file's, everything else (dates, institution, device, pixel data in its
 * transfer syntax) is left exactly as received, for the archive's de-identification to handle.
 */
export function rewriteFile(bytes: Buffer, replace: Natural): Buffer {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: false });
  const replacements = meta.denaturalizeDataset(replace);
  for (const [tag, element] of Object.entries(replacements)) parsed.dict[tag] = element;
  const sopClass = String(replace.SOPClassUID ?? parsed.dict['00080016']?.Value?.[0] ?? parsed.meta['00020002']?.Value?.[0]);
  const sopInstance = String(replace.SOPInstanceUID ?? parsed.dict['00080018']?.Value?.[0]);
  return part10(parsed.dict, sopClass, sopInstance, String(parsed.meta['00020010']!.Value![0]));
}

/** The attributes a file already carries (naturalised), e.g. its StudyDate. */
export function readAttributes(bytes: Buffer): Natural {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: true, untilTag: '7FE00010' });
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
}
