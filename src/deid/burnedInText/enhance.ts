import type { Gray8 } from './ocrEngine';

/**
 * Minimum or maximum over a window of 2r+1 samples of one line (van Herk / Gil-Werman: three
 * comparisons a sample whatever r). `line` is read and `out` written at offset + i * stride.
 */
function rankLine(src: Uint8Array, out: Uint8Array, offset: number, stride: number, n: number, r: number, max: boolean, g: Uint8Array, h: Uint8Array): void {
  const k = 2 * r + 1;
  const op = max ? (a: number, b: number) => (a > b ? a : b) : (a: number, b: number) => (a < b ? a : b);
  for (let i = 0; i < n; i++) g[i] = i % k === 0 ? src[offset + i * stride] : op(g[i - 1], src[offset + i * stride]);
  for (let i = n - 1; i >= 0; i--) h[i] = i === n - 1 || (i + 1) % k === 0 ? src[offset + i * stride] : op(h[i + 1], src[offset + i * stride]);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - r), hi = Math.min(n - 1, i + r);
    out[offset + i * stride] = op(h[lo], g[hi]);
  }
}

/** Running minimum or maximum over a (2r+1)-square window: rows, then columns. */
function rankFilter(src: Uint8Array, w: number, hgt: number, r: number, max: boolean): Uint8Array {
  const tmp = new Uint8Array(w * hgt);
  const out = new Uint8Array(w * hgt);
  const g = new Uint8Array(Math.max(w, hgt)), h = new Uint8Array(Math.max(w, hgt));
  for (let y = 0; y < hgt; y++) rankLine(src, tmp, y * w, 1, w, r, max, g, h);
  for (let x = 0; x < w; x++) rankLine(tmp, out, x, w, hgt, r, max, g, h);
  return out;
}

/**
 * Glyph strokes, whatever lies under them: the white and black top-hats (the image minus its
 * opening, its closing minus the image) keep bright or dark structures thinner than the window
 * and drop anatomy and flat backgrounds. Grey text drawn over tissue at low contrast becomes
 * dark ink on white, which is what Tesseract reads best. `r` is about the stroke width.
 */
export function strokeImage(img: Gray8, r = 6, dark = false): Gray8 {
  const { width: w, height: h, data } = img;
  const smoothed = dark ? rankFilter(rankFilter(data, w, h, r, true), w, h, r, false) : rankFilter(rankFilter(data, w, h, r, false), w, h, r, true);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) {
    const t = dark ? smoothed[i] - data[i] : data[i] - smoothed[i];
    // Contrast of 40 grey levels is full ink; speckle a few levels deep stays near white.
    out[i] = 255 - Math.min(255, Math.max(0, (t - 8) * 6));
  }
  return { width: w, height: h, data: out };
}
