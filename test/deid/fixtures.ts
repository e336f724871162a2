// A small kit that builds DICOM files for the deid tests: with dcmjs (as the pipeline
// receives them from modalities) and, for character-set cases, byte by byte, because
// dcmjs always writes UTF-8 whatever Specific Character Set says.
import path from 'node:path';
import { dcmjs, type DicomDataset } from '../../src/deid/dcmjs';
import { OBIA_DEFAULT_OPTIONS, type DeidContext, type DeidOptions } from '../../src/deid';

export const SAMPLES_DIR = path.resolve(process.cwd(), '../shared/deid/dicom');
export const DATA_DIR = path.resolve(process.cwd(), 'src/deid/data');

export const SECRET = 'obia-test-secret-0123456789abcdef';

export function context(options: Partial<DeidOptions> = {}, individualAccession = 'OBIA-IND-000042', dateOffsetDays = -400): DeidContext {
  return { secret: SECRET, individualAccession, dateOffsetDays, options: { ...OBIA_DEFAULT_OPTIONS, ...options } };
}

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const US_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.6.1';

/** Writes a Part 10 file with dcmjs from a dataset in dcmjs' tag-keyed form. */
export function writePart10(dataset: DicomDataset, extraMeta: DicomDataset = {}, transferSyntax = '1.2.840.10008.1.2.1'): Buffer {
  const sopClass = (dataset['00080016']?.Value?.[0] as string | undefined) ?? CT_IMAGE_STORAGE;
  const sopInstance = (dataset['00080018']?.Value?.[0] as string | undefined) ?? '1.2.3.4';
  const meta: DicomDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClass] },
    '00020003': { vr: 'UI', Value: [sopInstance] },
    '00020010': { vr: 'UI', Value: [transferSyntax] },
    '00020012': { vr: 'UI', Value: ['1.2.3.4.5.6.7'] },
    ...extraMeta,
  };
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dataset;
  return Buffer.from(dict.write());
}

export function readPart10(bytes: Uint8Array): { meta: DicomDataset; dict: DicomDataset } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: false });
  return { meta: parsed.meta, dict: parsed.dict };
}

export interface RawElement { tag: string; vr: string; value: Buffer }

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function encodeExplicit(e: RawElement): Buffer {
  const value = e.value.length % 2 ? Buffer.concat([e.value, Buffer.from(e.vr === 'UI' ? '\0' : ' ')]) : e.value;
  const long = LONG_VRS.has(e.vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(parseInt(e.tag.slice(0, 4), 16), 0);
  header.writeUInt16LE(parseInt(e.tag.slice(4, 8), 16), 2);
  header.write(e.vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** Byte-exact Explicit VR Little Endian Part 10 file (elements must be given in tag order). */
export function rawPart10(elements: RawElement[]): Buffer {
  const ts = encodeExplicit({ tag: '00020010', vr: 'UI', value: Buffer.from('1.2.840.10008.1.2.1') });
  const sopClass = encodeExplicit({ tag: '00020002', vr: 'UI', value: Buffer.from('1.2.840.10008.5.1.4.1.1.7') });
  const sopInstance = encodeExplicit({ tag: '00020003', vr: 'UI', value: Buffer.from('1.2.3.4.99') });
  const metaBody = Buffer.concat([sopClass, sopInstance, ts]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(2, 0);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(metaBody.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, metaBody, ...elements.map(encodeExplicit)]);
}

/** A 16-bit monochrome image dataset with the given pixel size, every pixel = `fill`. */
export function imageDataset(rows: number, columns: number, fill: number, extra: DicomDataset = {}): DicomDataset {
  const pixels = new Uint16Array(rows * columns).fill(fill);
  return {
    '00080016': { vr: 'UI', Value: [CT_IMAGE_STORAGE] },
    '00080018': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.1.1'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.2'] },
    '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.3'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [rows] },
    '00280011': { vr: 'US', Value: [columns] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [pixels.buffer] },
    ...extra,
  };
}

export function str(ds: DicomDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic);
  return v === undefined ? undefined : String(v);
}
