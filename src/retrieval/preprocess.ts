/**
 * Model input preparation. This file is the specification that
 * training/obia_preprocess.py mirrors: every step is integer arithmetic (or one
 * float64 expression rounded once to float32), so both sides produce the same
 * bytes and therefore the same hash bits.
 */
import { boxSums } from '../imaging/boxSums';

export interface Gray8Image {
  width: number;
  height: number;
  /** row-major, one byte per pixel, length width*height */
  data: Uint8Array;
}

export const MODEL_SIDE = 128;

/**
 * (v - 127.5) / 127.5 evaluated in float64 and rounded once to float32.
 * A table rather than arithmetic in the loop so the rounding happens exactly
 * once, as in numpy's `.astype(np.float32)`.
 */
const NORMALISE = (() => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v - 127.5) / 127.5;
  return t;
})();

/**
 * Area-average resize with integer box edges.
 * Output pixel o covers source indices [floor(o*S/D), floor((o+1)*S/D)), widened to
 * one pixel when empty (upscaling), and its value is the box mean rounded half up:
 * floor((2*sum + n) / (2*n)). Stretches rather than letterboxes, matching how the
 * training set was produced (whole images squeezed to 64×64).
 */
export function resizeArea(img: Gray8Image, outW: number, outH: number): Gray8Image {
  const { width: w, height: h, data } = img;
  if (w <= 0 || h <= 0 || data.length < w * h) throw new RangeError(`bad image ${w}x${h} (${data.length} bytes)`);
  const out = new Uint8Array(outW * outH);
  if (w % outW === 0 && h % outH === 0) {
    // Whole boxes of the same size (512→64): the same sums, several times faster.
    const sums = boxSums(data.length === w * h ? data : data.subarray(0, w * h), w, h, w / outW, h / outH);
    const n = (w / outW) * (h / outH);
    for (let i = 0; i < out.length; i++) out[i] = Math.floor((2 * sums[i] + n) / (2 * n));
    return { width: outW, height: outH, data: out };
  }
  const x0 = new Int32Array(outW), x1 = new Int32Array(outW);
  for (let o = 0; o < outW; o++) {
    x0[o] = Math.floor((o * w) / outW);
    x1[o] = Math.max(Math.floor(((o + 1) * w) / outW), x0[o] + 1);
  }
  // Column sums for one output row's band keep this O(w*h) without an integral image.
  const col = new Float64Array(w);
  for (let oy = 0; oy < outH; oy++) {
    const y0 = Math.floor((oy * h) / outH);
    const y1 = Math.max(Math.floor(((oy + 1) * h) / outH), y0 + 1);
    col.fill(0);
    for (let y = y0; y < y1; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) col[x] += data[row + x];
    }
    for (let ox = 0; ox < outW; ox++) {
      let sum = 0;
      for (let x = x0[ox]; x < x1[ox]; x++) sum += col[x];
      const n = (x1[ox] - x0[ox]) * (y1 - y0);
      out[oy * outW + ox] = Math.floor((2 * sum + n) / (2 * n));
    }
  }
  return { width: outW, height: outH, data: out };
}

/** An 8-bit grey image → the shipped model's float32 [1,MODEL_SIDE,MODEL_SIDE] input. */
export function preprocess(img: Gray8Image): Float32Array {
  return preprocessTo(img, MODEL_SIDE);
}

/** The same steps for another input side (an older model, read from its ONNX input shape). */
export function preprocessTo(img: Gray8Image, side: number): Float32Array {
  const small = img.width === side && img.height === side ? img : resizeArea(img, side, side);
  const out = new Float32Array(side * side);
  for (let i = 0; i < out.length; i++) out[i] = NORMALISE[small.data[i]];
  return out;
}
