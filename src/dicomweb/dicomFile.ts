// How DICOMweb reads stored DICOM files: through the front door (src/dicom), as every module
// does; what is DICOMweb's own here is the frame and bulk-data addressing of PS3.18.
import { BINARY_VRS, binaryBytes, EXPLICIT_BE, EXPLICIT_LE, int, readDicom, toDicomJson, type DicomJson } from '../dicom/index.js';
import { encapsulatedFrame } from '../imaging/frames.js';
import { NoPixelDataError } from '../imaging/errors.js';
import { parseImage, type ParsedImage } from '../imaging/parse.js';
import { transferSyntaxInfo } from '../imaging/transferSyntax.js';
import { matches, type MediaRange } from './accept.js';
import { NotAcceptable, NotFound } from './errors.js';

/**
 * The bytes of one top-level binary attribute (BulkDataURI target); Pixel Data as stored. Native
 * little-endian Pixel Data is taken from the framed file as it is, without a copy through dcmjs;
 * encapsulated or big-endian Pixel Data, and every other attribute, as dcmjs reads the value.
 */
export function bulkValue(bytes: Uint8Array, tag: string): Uint8Array {
  // Header only whatever the tag: that reading holds every attribute but a Pixel Data that ends
  // the dataset, so only encapsulated or big-endian Pixel Data needs the whole file through dcmjs.
  let file = readDicom(bytes, { headerOnly: true });
  if (file.headerOnly && tag === '7FE00010') {
    const { pixelElement, pixelDataLength, transferSyntaxUid } = file.framed;
    if (pixelElement && pixelDataLength !== -1 && transferSyntaxUid !== EXPLICIT_BE) {
      return pixelElement.value;
    }
    file = readDicom(bytes);
  }
  const el = file.message.dict[tag];
  if (!el || !BINARY_VRS.has(el.vr) || !Array.isArray(el.Value)) throw new NotFound('the instance holds no bulk data under that tag');
  return binaryBytes(el.Value);
}

/**
 * An instance's DICOM JSON made from its file, as ingest's derived product holds it (Pixel Data
 * by BulkDataURI relative to the instance): for instances archived before the product existed,
 * or whose product is lost. Through dcmjs, so it runs on an imaging worker (imagingPool.ts).
 */
export function metadataOfFile(bytes: Uint8Array): DicomJson {
  const { message, framed } = readDicom(bytes, { headerOnly: true });
  const json = toDicomJson(message.dict);
  // Encapsulated Pixel Data is OB; native is OW unless its samples are bytes (PS3.5 8.2).
  const bits = int(message.dict['00280100']?.Value) ?? 16;
  if (framed.pixelDataLength !== null) json['7FE00010'] = { vr: framed.pixelDataLength === -1 || bits <= 8 ? 'OB' : 'OW', BulkDataURI: 'bulkdata/7FE00010' };
  return json;
}

export interface Frames {
  transferSyntaxUid: string;
  numberOfFrames: number;
  /** The frame's bytes as stored (native: its slice of Pixel Data; encapsulated: its compressed bytes). */
  frame(index: number): Uint8Array;
}

/** What a request for pixels of an instance that holds none (a structured report) is told. */
export const NO_PIXELS = 'the instance holds no pixel data';

/** The frames of a stored image, by 0-based index; 404 for an instance without Pixel Data. */
export function framesOf(bytes: Uint8Array): Frames {
  let parsed: ParsedImage;
  try {
    parsed = parseImage(bytes);
  } catch (err) {
    // Asking an SR for its frames is the client's mistake, not a fault of the stored file.
    if (err instanceof NoPixelDataError) throw new NotFound(NO_PIXELS);
    throw err;
  }
  const ts = parsed.transferSyntaxUid;
  const info = transferSyntaxInfo(ts);
  const a = parsed.attrs;
  return {
    transferSyntaxUid: ts,
    numberOfFrames: a.numberOfFrames,
    frame(index: number) {
      if (info.encoding !== 'native') return encapsulatedFrame(parsed.pixelItems, a.numberOfFrames, index, info.encoding);
      const pixels = parsed.pixelItems[0]!;
      // Bit-packed (1-bit) frames need not start on a byte boundary; they are refused below rather than cut wrongly.
      const bits = a.rows * a.columns * a.samplesPerPixel * a.bitsAllocated;
      if (bits % 8 !== 0) throw new NotAcceptable('this image\'s frames are bit-packed and cannot be served one by one');
      const size = bits / 8;
      return pixels.subarray(index * size, (index + 1) * size);
    },
  };
}

/** Where each frame's bytes (as stored) lie in the file; null for a frame that is not one contiguous run (fragments joined). */
export interface FrameIndex {
  transferSyntaxUid: string;
  numberOfFrames: number;
  ranges: ({ start: number; length: number } | null)[];
}

/** Below this a compressed frame is not looked up by its bytes (a short run could occur earlier in the file). */
const MIN_SEARCHED = 64;

/** The frame index of a whole stored file (parsed once: native frames are views of it; a compressed frame is found by its bytes). */
export function indexFrames(file: Buffer): FrameIndex {
  const frames = framesOf(file);
  const ranges: FrameIndex['ranges'] = [];
  for (let i = 0; i < frames.numberOfFrames; i++) {
    let bytes: Uint8Array;
    try { bytes = frames.frame(i); } catch { ranges.push(null); continue; }
    if (bytes.buffer === file.buffer) {
      ranges.push({ start: bytes.byteOffset - file.byteOffset, length: bytes.byteLength });
    } else if (bytes.byteLength >= MIN_SEARCHED) {
      const at = file.indexOf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ranges.push(at >= 0 ? { start: at, length: bytes.byteLength } : null);
    } else {
      ranges.push(null);
    }
  }
  return { transferSyntaxUid: frames.transferSyntaxUid, numberOfFrames: frames.numberOfFrames, ranges };
}

/**
 * How frames stored in `stored` are sent when `wanted` is asked for: `*` or the stored syntax as
 * stored; Explicit VR Little Endian as the same bytes for native little-endian storage, else
 * decoded (transcoded) from the compressed stream, as PS3.18 8.7.3.5.2 makes it the default of
 * application/octet-stream. Any other syntax would need an encoder for it: 406.
 */
export function frameSyntax(stored: string, wanted: string): { syntax: string; transcode: boolean } {
  if (wanted === '*' || wanted === stored) return { syntax: stored, transcode: false };
  if (wanted === EXPLICIT_LE) {
    const info = transferSyntaxInfo(stored);
    if (info.encoding === 'native' && !info.bigEndian) return { syntax: EXPLICIT_LE, transcode: false };
    if (info.encoding !== 'native') return { syntax: EXPLICIT_LE, transcode: true };
  }
  throw new NotAcceptable(`frames are held as ${stored} and can be sent as stored (transfer-syntax=*) or as ${EXPLICIT_LE}`);
}

/**
 * The transfer syntax a frame media type means when the request names none (PS3.18 8.7.3.5.2,
 * Table 8.7.3-5): each type's default.
 */
const DEFAULT_FRAME_SYNTAX: Record<string, string> = {
  'application/octet-stream': EXPLICIT_LE,
  'image/jpeg': '1.2.840.10008.1.2.4.50',
  'image/jls': '1.2.840.10008.1.2.4.80',
  'image/jp2': '1.2.840.10008.1.2.4.90',
  'image/jphc': '1.2.840.10008.1.2.4.201',
  'image/x-dicom-rle': '1.2.840.10008.1.2.5',
};

/**
 * How an instance's frames are sent for an Accept header's ranges (best first): the first range
 * that can be met decides the syntax and the parts' media type. A range that names a frame type
 * gets that type, in the syntax it names or, naming none, in the type's default; only
 * `transfer-syntax=*` leaves both to the server (frames as stored, as OHIF asks). A range for
 * image/jls was answered with JPEG or RLE parts, as stored, under a 200: a client that decodes
 * only what it asked for was handed what it cannot read.
 */
export function frameRepresentation(ranges: MediaRange[], stored: string): { syntax: string; transcode: boolean; partType: string } {
  let refusal: string | null = null;
  for (const range of ranges) {
    if (!matches(range.type, 'multipart/related')) continue;
    const inner = range.type === 'multipart/related' ? range.params.type?.toLowerCase() : undefined;
    const named = range.params['transfer-syntax'];
    // No type (or any) with no syntax: Explicit VR Little Endian, as application/octet-stream means.
    const wanted = named ?? (inner && inner !== '*/*' ? DEFAULT_FRAME_SYNTAX[inner] : EXPLICIT_LE);
    if (!wanted) continue;
    let chosen: { syntax: string; transcode: boolean };
    try {
      chosen = frameSyntax(stored, wanted);
    } catch (err) {
      if (!(err instanceof NotAcceptable)) throw err;
      refusal = err.message;
      continue;
    }
    const partType = chosen.syntax === stored ? frameMediaType(chosen.syntax) : 'application/octet-stream';
    if (named !== '*' && inner && !matches(inner, partType)) {
      refusal = `frames are held as ${stored} (${frameMediaType(stored)}) and can be sent as stored (transfer-syntax=*) or as ${EXPLICIT_LE} (application/octet-stream), not as ${inner}${named ? ` in ${named}` : ''}`;
      continue;
    }
    return { ...chosen, partType };
  }
  throw new NotAcceptable(refusal ?? `frames are sent as multipart/related; ask with transfer-syntax=* for them as stored (${stored}) or for application/octet-stream`);
}

/** The media type of frames in a transfer syntax (PS3.18 Table 8.7.3-2). */
export function frameMediaType(transferSyntaxUid: string): string {
  const encoding = transferSyntaxInfo(transferSyntaxUid).encoding;
  switch (encoding) {
    case 'jpeg': return 'image/jpeg';
    case 'jpegls': return 'image/jls';
    case 'j2k': return 'image/jp2';
    case 'htj2k': return 'image/jphc';
    case 'rle': return 'image/x-dicom-rle';
    default: return 'application/octet-stream';
  }
}
