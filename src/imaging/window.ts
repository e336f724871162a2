import type { DecodedFrame } from './decode';

export interface Image8 { width: number; height: number; channels: 1 | 3; data: Uint8Array }

function minMax(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** DICOM linear VOI function (PS3.3 C.11.2.1.2.1) mapped onto 0..255. */
function applyWindow(data: Float32Array, center: number, width: number, out: Uint8Array): void {
  const c = center - 0.5, w = Math.max(width - 1, 1e-6);
  const lo = c - w / 2, hi = c + w / 2;
  const k = 255 / w;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v <= lo ? 0 : v > hi ? 255 : ((v - lo) * k + 0.5) | 0;
  }
}

function isFlat(a: Uint8Array): boolean {
  const v = a[0];
  for (let i = 1; i < a.length; i++) if (a[i] !== v) return false;
  return true;
}

/**
 * 8-bit display values: the file's window if any, else the data range; MONOCHROME1 inverted.
 * A file window that paints a non-constant image a single colour (stale or foreign window
 * values are common) falls back to the data range, so thumbnails are never blank by accident.
 */
export function toDisplay8(frame: DecodedFrame): Image8 {
  const { columns: width, rows: height } = frame;
  const out = new Uint8Array(frame.data.length);
  if (frame.samplesPerPixel === 3) {
    const d = frame.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      out[i] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
    }
    return { width, height, channels: 3, data: out };
  }
  const { windowCenter: wc, windowWidth: ww } = frame;
  let windowed = false;
  if (wc !== null && ww !== null && ww > 0) {
    applyWindow(frame.data, wc, ww, out);
    windowed = !isFlat(out);
  }
  if (!windowed) {
    const [lo, hi] = minMax(frame.data);
    if (hi > lo) applyWindow(frame.data, (lo + hi) / 2 + 0.5, hi - lo + 1, out);
    else if (!(wc !== null && ww !== null && ww > 0)) out.fill(0);
  }
  if (frame.photometricInterpretation === 'MONOCHROME1') for (let i = 0; i < out.length; i++) out[i] = 255 - out[i];
  return { width, height, channels: 1, data: out };
}

/** Single channel for the retrieval model: display values, BT.601 luma for colour. */
export function toGray8(frame: DecodedFrame): { width: number; height: number; data: Uint8Array } {
  return grayOf(toDisplay8(frame));
}

/** Display values already computed, as one channel (BT.601 luma for colour). */
export function grayOf(d: Image8): { width: number; height: number; data: Uint8Array } {
  return { width: d.width, height: d.height, data: d.channels === 1 ? d.data : lumaOf(d.data) };
}

function lumaOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = (0.299 * rgb[j] + 0.587 * rgb[j + 1] + 0.114 * rgb[j + 2] + 0.5) | 0;
  return out;
}

/** Samples as stored, before masking to BitsStored: what a lookup table is indexed by. */
export interface RawGrey {
  rows: number;
  columns: number;
  raw: Uint8Array | Uint16Array;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter: number;
  windowWidth: number;
  monochrome1: boolean;
}

/** The parameters a display lookup table depends on, as a cache key. */
function lutKey(g: RawGrey): string {
  return `${g.bitsAllocated}/${g.bitsStored}/${g.highBit}/${g.signed}/${g.rescaleSlope}/${g.rescaleIntercept}/${g.windowCenter}/${g.windowWidth}/${g.monochrome1}`;
}

/**
 * Display value of every possible stored word: masking, sign, modality LUT (rounded to
 * float32, as DecodedFrame holds it), VOI window and MONOCHROME1 inversion, exactly as
 * toModality and toDisplay8 compute them per pixel.
 */
function displayTable(g: RawGrey): Uint8Array {
  // As unpackNative: only a BitsStored below BitsAllocated masks (and shifts by HighBit).
  const masked = g.bitsStored < g.bitsAllocated;
  const shift = masked ? Math.max(0, g.highBit + 1 - g.bitsStored) : 0;
  const bits = masked ? g.bitsStored : g.bitsAllocated;
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const identity = g.rescaleSlope === 1 && g.rescaleIntercept === 0;
  const c = g.windowCenter - 0.5, w = Math.max(g.windowWidth - 1, 1e-6);
  const lo = c - w / 2, hi = c + w / 2, k = 255 / w;
  const lut = new Uint8Array(1 << g.bitsAllocated);
  for (let r = 0; r < lut.length; r++) {
    let s = (r >>> shift) & mask;
    if (g.signed && s & signBit) s -= 2 * signBit;
    const v = identity ? s : Math.fround(s * g.rescaleSlope + g.rescaleIntercept);
    const d = v <= lo ? 0 : v > hi ? 255 : ((v - lo) * k + 0.5) | 0;
    lut[r] = g.monochrome1 ? 255 - d : d;
  }
  return lut;
}

// The images of a series share their pixel module and window, so one table serves them all.
let lastTable: { key: string; lut: Uint8Array } | null = null;

/**
 * The same bytes toDisplay8 gives for a windowed grey frame, by one table lookup per pixel
 * and no float frame. Null when the window paints the frame one colour, where toDisplay8
 * falls back to the data range: the caller takes the general path then. `into` lends the
 * buffer written to, for a caller that drops the image before the next call.
 */
export function displayOfRawGrey(g: RawGrey, into?: (size: number) => Uint8Array): Image8 | null {
  const key = lutKey(g);
  if (lastTable?.key !== key) lastTable = { key, lut: displayTable(g) };
  const { lut } = lastTable;
  const { raw } = g;
  const out = into ? into(raw.length).subarray(0, raw.length) : new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = lut[raw[i]];
  // toDisplay8 judges flatness before inverting, which inversion does not change.
  if (isFlat(out)) return null;
  return { width: g.columns, height: g.rows, channels: 1, data: out };
}
