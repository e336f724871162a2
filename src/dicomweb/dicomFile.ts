// The one place DICOMweb reads stored DICOM files (dcmjs). When the ingest-stages work (#14)
// lands, src/dicom/ becomes the front door for DICOM bytes and this file switches to it (and
// series metadata can become a derived product instead of being computed here).
import { encapsulatedFrame } from '../imaging/frames.js';
import { parseImage } from '../imaging/parse.js';
import { transferSyntaxInfo } from '../imaging/transferSyntax.js';
import { NotAcceptable, NotFound } from './errors.js';

interface Element { vr: string; Value?: unknown[] }
type Dataset = Record<string, Element>;
interface DcmjsLogger { getLevel(): number; setLevel(level: number | string): void }
interface Dcmjs {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string }): { meta: Dataset; dict: Dataset } } };
  log: DcmjsLogger & { getLogger(name: string): DcmjsLogger };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dcmjs = require('dcmjs') as Dcmjs;

export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** Binary values up to this size are inlined (base64); larger top-level ones become BulkDataURIs. */
const INLINE_MAX = 1024;

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/** Reads a stored (de-identified, already screened) Part 10 file; dcmjs's logging is silenced meanwhile. */
export function readDataset(bytes: Uint8Array): { meta: Dataset; dict: Dataset } {
  const loggers = [dcmjs.log, dcmjs.log.getLogger('validation.dcmjs')];
  const previous = loggers.map((l) => l.getLevel());
  loggers.forEach((l) => l.setLevel('silent'));
  try {
    return dcmjs.data.DicomMessage.readFile(arrayBufferOf(bytes), { ignoreErrors: true });
  } finally {
    loggers.forEach((l, i) => l.setLevel(previous[i]));
  }
}

function binary(values: unknown[]): Buffer {
  return Buffer.concat(values.filter((x): x is ArrayBuffer => x instanceof ArrayBuffer).map((x) => Buffer.from(x)));
}

function jsonValue(vr: string, values: unknown[], bulk: ((tag: string) => string) | null, tag: string): Record<string, unknown> {
  if (vr === 'SQ') return { vr, Value: values.map((item) => toDicomJson(item as Dataset, null)) };
  if (BINARY_VRS.has(vr)) {
    const bytes = binary(values);
    if (bytes.length === 0) return { vr };
    if (bulk && (bytes.length > INLINE_MAX || tag === '7FE00010')) return { vr, BulkDataURI: bulk(tag) };
    return { vr, InlineBinary: bytes.toString('base64') };
  }
  // Empty values of a multi-valued attribute are null in DICOM JSON (PS3.18 F.2.5).
  const out = values.map((v) => (v === '' || v === undefined ? null : typeof v === 'string' ? v.replace(/[\0 ]+$/, '') : v));
  return out.length === 0 || out.every((v) => v === null) ? { vr } : { vr, Value: out };
}

/**
 * A dataset as DICOM JSON (PS3.18 F.2): tags in order, binary values over 1 KiB at top level
 * (and Pixel Data always) as BulkDataURIs made by `bulk`, smaller and nested ones inline.
 */
export function toDicomJson(dict: Dataset, bulk: ((tag: string) => string) | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const tag of Object.keys(dict).sort()) {
    // Group lengths are not part of DICOM JSON; 7FE00008/9 are Pixel Data's float variants and keep their bulk handling.
    if (tag.endsWith('0000')) continue;
    const el = dict[tag]!;
    out[tag] = jsonValue(el.vr, Array.isArray(el.Value) ? el.Value : [], bulk, tag);
  }
  return out;
}

/** The bytes of one top-level binary attribute (BulkDataURI target); Pixel Data as stored. */
export function bulkValue(bytes: Uint8Array, tag: string): Buffer {
  const { dict } = readDataset(bytes);
  const el = dict[tag];
  if (!el || !BINARY_VRS.has(el.vr) || !Array.isArray(el.Value)) throw new NotFound('the instance holds no bulk data under that tag');
  return binary(el.Value);
}

export interface Frames {
  transferSyntaxUid: string;
  numberOfFrames: number;
  /** The frame's bytes as stored (native: its slice of Pixel Data; encapsulated: its compressed bytes). */
  frame(index: number): Uint8Array;
}

/** The frames of a stored image, by 0-based index. */
export function framesOf(bytes: Uint8Array): Frames {
  const parsed = parseImage(bytes);
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

/**
 * How frames stored in `stored` are sent when `wanted` is asked for: `*` or the stored syntax as
 * stored; Explicit VR Little Endian as the same bytes for native little-endian storage, else
 * decoded (transcoded) from the compressed stream, as PS3.18 8.7.3.5.2 makes it the default of
 * application/octet-stream. Any other syntax would need an encoder for it: 406.
 */
export function frameSyntax(stored: string, wanted: string): { syntax: string; transcode: boolean } {
  if (wanted === '*' || wanted === stored) return { syntax: stored, transcode: false };
  if (wanted === EXPLICIT_VR_LE) {
    const info = transferSyntaxInfo(stored);
    if (info.encoding === 'native' && !info.bigEndian) return { syntax: EXPLICIT_VR_LE, transcode: false };
    if (info.encoding !== 'native') return { syntax: EXPLICIT_VR_LE, transcode: true };
  }
  throw new NotAcceptable(`frames are held as ${stored} and can be sent as stored (transfer-syntax=*) or as ${EXPLICIT_VR_LE}`);
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
