import { PixelDataError } from './errors';

/**
 * Bounds on what one decode may allocate, checked from the header before any decoder runs:
 * a 250 KB PNG or an 8 MB JPEG 2000 can claim 16,000 × 16,000 pixels, and decoding it first
 * and measuring after costs gigabytes and seconds of a thread other requests share.
 *
 * - `maxFramePixels` (`OBIA_MAX_FRAME_PIXELS`, 40 M): Rows × Columns of one DICOM frame. The
 *   largest routine radiographs and mammograms are 15–30 M pixels.
 * - `maxImageBytes` (`OBIA_MAX_DECODED_BYTES`, 2 GiB): Rows × Columns × frames × samples ×
 *   bits allocated of a whole DICOM image, what decoding every frame would hold (twice the
 *   default per-file upload limit).
 * - `maxQueryPixels` (`OBIA_MAX_QUERY_PIXELS`, 4096 × 4096): width × height of a PNG or JPEG
 *   sent to similarImages; the model looks at a few dozen pixels a side.
 */
export interface DecodeLimits {
  maxFramePixels: number;
  maxImageBytes: number;
  maxQueryPixels: number;
}

function positive(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function decodeLimitsFrom(env: NodeJS.ProcessEnv): DecodeLimits {
  return {
    maxFramePixels: positive(env.OBIA_MAX_FRAME_PIXELS, 40_000_000),
    maxImageBytes: positive(env.OBIA_MAX_DECODED_BYTES, 2 * 2 ** 30),
    maxQueryPixels: positive(env.OBIA_MAX_QUERY_PIXELS, 4096 * 4096),
  };
}

// Read from the environment once per thread; worker threads inherit it, so the ingest
// workers enforce the same bounds as the main thread.
let limits: DecodeLimits = decodeLimitsFrom(process.env);

export function decodeLimits(): DecodeLimits {
  return limits;
}

/** Replaces some bounds (tests; a host embedding the imaging module); returns the previous ones. */
export function setDecodeLimits(next: Partial<DecodeLimits>): DecodeLimits {
  const previous = limits;
  limits = { ...limits, ...next };
  return previous;
}

/**
 * A decode refused because of the size its header declares. A PixelDataError, so every caller
 * that survives a bad frame survives this one; `code` lets screening name it (IMAGE_TOO_LARGE).
 */
export class DecodeLimitError extends PixelDataError {
  readonly code = 'IMAGE_TOO_LARGE';
  constructor(message: string) {
    super(message);
    this.name = 'DecodeLimitError';
  }
}

export interface DeclaredSize {
  rows: number | null;
  columns: number | null;
  numberOfFrames?: number | null;
  samplesPerPixel?: number | null;
  bitsAllocated?: number | null;
}

/** Why a DICOM image's declared size is refused, or null when it is within the bounds. */
export function dicomSizeProblem(a: DeclaredSize, l: DecodeLimits = limits): string | null {
  const rows = a.rows ?? 0, columns = a.columns ?? 0;
  const pixels = rows * columns;
  if (pixels > l.maxFramePixels) return `a frame of ${columns}x${rows} pixels exceeds the limit of ${l.maxFramePixels} pixels per frame`;
  const bytes = pixels * Math.max(1, a.numberOfFrames ?? 1) * Math.max(1, a.samplesPerPixel ?? 1) * Math.max(1, a.bitsAllocated ?? 8) / 8;
  if (bytes > l.maxImageBytes) return `the image decodes to ${Math.round(bytes)} bytes (${a.numberOfFrames ?? 1} frames), more than the limit of ${l.maxImageBytes}`;
  return null;
}

/** Throws DecodeLimitError for a DICOM image larger than the bounds allow. */
export function assertDicomSize(a: DeclaredSize): void {
  const why = dicomSizeProblem(a);
  if (why) throw new DecodeLimitError(why);
}

/** Width and height from a PNG's IHDR (the first chunk, by the format's rule); null if there is none. */
export function pngDimensions(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 24 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== 'IHDR') return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** A JPEG (or JPEG-LS) start-of-frame header: its marker, sample precision and size. */
export interface JpegFrameHeader { marker: number; precision: number; width: number; height: number }

/**
 * The first start-of-frame header of a JPEG stream (JPEG-LS's SOF55 too, laid out the same); null
 * if none is found before the scan. The one scanner of JPEG markers: query images' size bound and
 * the DICOM decoders' choice of codec both read it.
 */
export function jpegFrameHeader(b: Uint8Array): JpegFrameHeader | null {
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return null;
    const m = b[p + 1];
    // Fill bytes, and markers without a length (RSTn, SOI, TEM).
    if (m === 0xff) { p++; continue; }
    if ((m >= 0xd0 && m <= 0xd8) || m === 0x01) { p += 2; continue; }
    if ((m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7) {
      return { marker: m, precision: b[p + 4], height: (b[p + 5] << 8) | b[p + 6], width: (b[p + 7] << 8) | b[p + 8] };
    }
    if (m === 0xda || m === 0xd9) return null;
    p += 2 + ((b[p + 2] << 8) | b[p + 3]);
  }
  return null;
}

/** Width and height from a JPEG's first start-of-frame header; null if there is none. */
export function jpegDimensions(b: Uint8Array): { width: number; height: number } | null {
  const sof = jpegFrameHeader(b);
  return sof && { width: sof.width, height: sof.height };
}

/** Width and height of a JPEG 2000 (or HTJ2K) codestream's image area, from its SIZ marker; null without one. */
export function j2kDimensions(b: Uint8Array): { width: number; height: number } | null {
  // SIZ follows SOC directly (ISO 15444-1 A.5.1): FF4F FF51 Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz …
  if (b.length < 22 || b[0] !== 0xff || b[1] !== 0x4f || b[2] !== 0xff || b[3] !== 0x51) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: dv.getUint32(8) - dv.getUint32(16), height: dv.getUint32(12) - dv.getUint32(20) };
}

/**
 * Throws DecodeLimitError when a PNG or JPEG declares more pixels than `max` (default: the query
 * bound); else returns the declared size (null without a readable header), for a caller that
 * chooses its decoder by it.
 */
export function assertRasterSize(kind: 'png' | 'jpeg', bytes: Uint8Array, max = limits.maxQueryPixels): { width: number; height: number } | null {
  const size = kind === 'png' ? pngDimensions(bytes) : jpegDimensions(bytes);
  // No readable header: the decoder refuses the file itself, before allocating for it.
  if (!size) return null;
  if (size.width * size.height > max) {
    throw new DecodeLimitError(`the ${kind.toUpperCase()} declares ${size.width}x${size.height} pixels, more than the limit of ${max}`);
  }
  return size;
}
