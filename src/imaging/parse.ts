import { normalisePart10 } from './dicomInput';
import { PixelDataError } from './errors';

interface DcmjsElement { vr: string; Value?: unknown[] }
export type DcmjsDict = Record<string, DcmjsElement>;
interface DcmjsLogger { getLevel(): number; setLevel(level: number | string): void }
interface DcmjsModule {
  data: {
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean }): { meta: DcmjsDict; dict: DcmjsDict };
    };
  };
  log: DcmjsLogger & { getLogger(name: string): DcmjsLogger };
}

// dcmjs ships no type declarations; a local interface keeps the module self-contained
// instead of adding an ambient `declare module` that could clash with other code.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dcmjs = require('dcmjs') as DcmjsModule;

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
  /** Raw file as parsed, kept for the truncation check dcmjs cannot do (it zero-fills short values); null when already proven. */
  source: Uint8Array | null;
}

function first(dict: DcmjsDict | undefined, tag: string): unknown {
  const v = dict?.[tag]?.Value;
  return Array.isArray(v) && v.length > 0 ? v[0] : undefined;
}

function num(dict: DcmjsDict | undefined, tag: string): number | undefined {
  const v = first(dict, tag);
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  return Number.isFinite(n) ? n : undefined;
}

function str(dict: DcmjsDict | undefined, tag: string): string | undefined {
  const v = first(dict, tag);
  return typeof v === 'string' ? v.trim() : undefined;
}

function bytesOf(dict: DcmjsDict | undefined, tag: string): Uint8Array | undefined {
  const v = dict?.[tag]?.Value;
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const parts = v.filter((x): x is ArrayBuffer => x instanceof ArrayBuffer).map((x) => new Uint8Array(x));
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
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

interface ReadResult { meta: DcmjsDict; dict: DcmjsDict; strictError: string | null }

function readDicom(part10: Uint8Array): ReadResult {
  const input = normalisePart10(part10);
  // dcmjs wants an ArrayBuffer; only copy when the view does not cover its whole buffer.
  const ab = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer
    ? input.buffer
    : (input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer);
  // dcmjs logs through process-wide loglevel loggers; quieten them only while we parse
  // (synchronously, so nobody else's messages are affected) to keep ingest logs readable.
  const loggers = [dcmjs.log, dcmjs.log.getLogger('validation.dcmjs')];
  const previous = loggers.map((l) => l.getLevel());
  loggers.forEach((l) => l.setLevel('silent'));
  try {
    try {
      return { ...dcmjs.data.DicomMessage.readFile(ab), strictError: null };
    } catch (strict) {
      // Lenient retry: recovers files with e.g. ISO 2022 character sets or damage after Pixel Data.
      const strictError = strict instanceof Error ? strict.message : String(strict);
      return { ...dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: true }), strictError };
    }
  } catch (e) {
    throw new PixelDataError(`cannot parse DICOM: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    loggers.forEach((l, i) => l.setLevel(previous[i]));
  }
}

export function parseImage(part10: Uint8Array, frameIndexHint?: number): ParsedImage {
  const { meta, dict, strictError } = readDicom(part10);
  const transferSyntaxUid = (str(meta, '00020010') ?? '').replace(/\0+$/, '');
  const pixel = dict['7FE00010'] ?? dict['7FE00008'] ?? dict['7FE00009'];
  const pixelItems = (Array.isArray(pixel?.Value) ? pixel.Value : [])
    .filter((x): x is ArrayBuffer => x instanceof ArrayBuffer)
    .map((x) => new Uint8Array(x));
  if (!pixel || pixelItems.length === 0) {
    throw new PixelDataError(strictError ? `no pixel data (data set only partly parsed: ${strictError})` : 'no pixel data');
  }
  return { transferSyntaxUid, attrs: imageAttributes(dict, frameIndexHint), pixelItems, source: part10 };
}

/**
 * An image whose header is already parsed (dcmjs tag-keyed form) and whose native Pixel Data
 * value is at hand, as de-identification has them: no second parse. The value's length was
 * proven by whoever framed it, so no truncation check is needed (`source` is null).
 */
export function imageFromHeader(transferSyntaxUid: string, dict: DcmjsDict, nativePixelValue: Uint8Array, frameIndexHint?: number): ParsedImage {
  return { transferSyntaxUid, attrs: imageAttributes(dict, frameIndexHint), pixelItems: [nativePixelValue], source: null };
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
