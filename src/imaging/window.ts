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

export function lumaOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = (0.299 * rgb[j] + 0.587 * rgb[j + 1] + 0.114 * rgb[j + 2] + 0.5) | 0;
  return out;
}
