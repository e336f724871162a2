import { binaryBytes, DicomParseError, EXPLICIT_BE, readDicom, tagDecimal, tagText, type DicomDataset } from '../dicom';
import { NoPixelDataError, PixelDataError } from './errors';
import { readPixelModule, type PixelModule } from './pixelModule';

export type DcmjsDict = DicomDataset;

export interface PaletteChannel { entries: number; firstMapped: number; bits: number; data: Uint8Array; segmented: boolean }

export interface ImageAttributes {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter: number | null;
  windowWidth: number | null;
  palette: [PaletteChannel, PaletteChannel, PaletteChannel] | null;
}

export interface ParsedImage {
  transferSyntaxUid: string;
  attrs: ImageAttributes;
  /** Native: one buffer with the whole value. Encapsulated: dcmjs items (frames when a BOT was present, else fragments). */
  pixelItems: Uint8Array[];
  /** The pixel module as the header states it, which decoding checks first (pixelModule.ts). */
  pixelModule: PixelModule;
  /** Raw file as parsed, kept for the truncation check dcmjs cannot do (it zero-fills short values); null when already proven. */
  source: Uint8Array | null;
}

function num(dict: DcmjsDict | undefined, tag: string): number | undefined {
  return tagDecimal(dict, tag) ?? undefined;
}

function str(dict: DcmjsDict | undefined, tag: string): string | undefined {
  return tagText(dict, tag) ?? undefined;
}

function bytesOf(dict: DcmjsDict | undefined, tag: string): Uint8Array | undefined {
  const v = dict?.[tag]?.Value;
  return Array.isArray(v) && v.length > 0 ? binaryBytes(v) : undefined;
}

function items(dict: DcmjsDict | undefined, tag: string): DcmjsDict[] {
  const v = dict?.[tag]?.Value;
  return Array.isArray(v) ? (v as DcmjsDict[]) : [];
}

/**
 * Enhanced multi-frame objects keep rescale and window values in functional groups, not at top level.
 * Per-frame values win over shared ones, as PS3.3 C.7.6.16 specifies.
 */
function functionalGroupValue(dict: DcmjsDict, seqTag: string, tag: string, frameIndex: number): number | undefined {
  const perFrame = items(dict, '52009230')[frameIndex];
  const shared = items(dict, '52009229')[0];
  for (const group of [perFrame, shared]) {
    const inner = items(group, seqTag)[0];
    const v = num(inner, tag);
    if (v !== undefined) return v;
  }
  return undefined;
}

function palette(dict: DcmjsDict, pixelRepresentation: number): ImageAttributes['palette'] {
  const channels: PaletteChannel[] = [];
  for (const [desc, data, seg] of [['00281101', '00281201', '00281221'], ['00281102', '00281202', '00281222'], ['00281103', '00281203', '00281223']]) {
    const d = dict[desc]?.Value as number[] | undefined;
    if (!d || d.length < 3) return null;
    const segData = bytesOf(dict, seg);
    const lutData = segData ?? bytesOf(dict, data);
    if (!lutData) return null;
    let firstMapped = Number(d[1]);
    // The first-mapped value is SS when pixels are signed, but implicit VR makes dcmjs read it as US.
    if (pixelRepresentation === 1 && firstMapped > 32767) firstMapped -= 65536;
    channels.push({ entries: Number(d[0]) === 0 ? 65536 : Number(d[0]), firstMapped, bits: Number(d[2]), data: lutData, segmented: !!segData });
  }
  return [channels[0], channels[1], channels[2]];
}

/**
 * Reads the file through the front door (src/dicom), so imaging accepts and refuses exactly the
 * files de-identification does: framing has proven every length, so no truncation check is left
 * to do later (`source` is null). A native Pixel Data that ends the file is taken as a view of
 * the input instead of a copy through dcmjs.
 */
export function parseImage(part10: Uint8Array, frameIndexHint?: number): ParsedImage {
  let file;
  try {
    file = readDicom(part10, { headerOnly: true });
  } catch (e) {
    if (e instanceof DicomParseError) throw new PixelDataError(`cannot parse DICOM: ${e.reason}`, { cause: e });
    throw e;
  }
  const { framed, message } = file;
  const dict = message.dict;
  const transferSyntaxUid = framed.transferSyntaxUid;
  let pixelItems: Uint8Array[];
  if (file.headerOnly && framed.pixelDataLength !== -1 && framed.transferSyntaxUid !== EXPLICIT_BE) {
    pixelItems = [framed.pixelElement!.value];
  } else {
    // Encapsulated (dcmjs splits items into frames or fragments) or big endian (dcmjs swaps): the full parse.
    const whole = file.headerOnly ? readDicom(part10).message.dict : dict;
    const pixel = whole['7FE00010'] ?? whole['7FE00008'] ?? whole['7FE00009'];
    pixelItems = (Array.isArray(pixel?.Value) ? pixel.Value : []).filter((x): x is ArrayBuffer => x instanceof ArrayBuffer).map((x) => new Uint8Array(x));
  }
  if (pixelItems.length === 0) throw new NoPixelDataError();
  return { transferSyntaxUid, attrs: imageAttributes(dict, frameIndexHint), pixelItems, pixelModule: readPixelModule(dict), source: null };
}

/**
 * An image whose header is already parsed (dcmjs tag-keyed form) and whose native Pixel Data
 * value is at hand, as de-identification has them: no second parse. The value's length was
 * proven by whoever framed it, so no truncation check is needed (`source` is null).
 */
export function imageFromHeader(transferSyntaxUid: string, dict: DcmjsDict, nativePixelValue: Uint8Array, frameIndexHint?: number): ParsedImage {
  return { transferSyntaxUid, attrs: imageAttributes(dict, frameIndexHint), pixelItems: [nativePixelValue], pixelModule: readPixelModule(dict), source: null };
}

function imageAttributes(dict: DcmjsDict, frameIndexHint?: number): ImageAttributes {
  const rows = num(dict, '00280010');
  const columns = num(dict, '00280011');
  const bitsAllocated = num(dict, '00280100');
  if (!rows || !columns || !bitsAllocated) {
    throw new PixelDataError(`pixel data without usable Rows/Columns/BitsAllocated (${rows}x${columns}, ${bitsAllocated} bits)`);
  }
  const bitsStored = num(dict, '00280101') ?? bitsAllocated;
  const pixelRepresentation = num(dict, '00280103') ?? 0;
  const numberOfFrames = Math.max(1, Math.floor(num(dict, '00280008') ?? 1));
  const frameForGroups = Math.min(numberOfFrames - 1, Math.max(0, frameIndexHint ?? Math.floor((numberOfFrames - 1) / 2)));
  const photometricInterpretation = (str(dict, '00280004') ?? 'MONOCHROME2').toUpperCase();

  const attrs: ImageAttributes = {
    rows,
    columns,
    samplesPerPixel: num(dict, '00280002') ?? 1,
    bitsAllocated,
    bitsStored: bitsStored > 0 && bitsStored <= bitsAllocated ? bitsStored : bitsAllocated,
    highBit: num(dict, '00280102') ?? bitsStored - 1,
    pixelRepresentation,
    photometricInterpretation,
    planarConfiguration: num(dict, '00280006') ?? 0,
    numberOfFrames,
    rescaleSlope: num(dict, '00281053') ?? functionalGroupValue(dict, '00289145', '00281053', frameForGroups) ?? 1,
    rescaleIntercept: num(dict, '00281052') ?? functionalGroupValue(dict, '00289145', '00281052', frameForGroups) ?? 0,
    windowCenter: num(dict, '00281050') ?? functionalGroupValue(dict, '00289132', '00281050', frameForGroups) ?? null,
    windowWidth: num(dict, '00281051') ?? functionalGroupValue(dict, '00289132', '00281051', frameForGroups) ?? null,
    palette: photometricInterpretation === 'PALETTE COLOR' ? palette(dict, pixelRepresentation) : null,
  };
  if (attrs.rescaleSlope === 0) attrs.rescaleSlope = 1;
  return attrs;
}
