import { boxSums } from './boxSums';
import type { Image8 } from './window';

interface Weights { start: Int32Array; count: Int32Array; w: Float32Array; stride: number }

/** Area-averaging weights: each output pixel covers an exact interval of the source axis. */
function weights(src: number, dst: number): Weights {
  const scale = src / dst;
  const stride = Math.ceil(scale) + 2;
  const start = new Int32Array(dst), count = new Int32Array(dst), w = new Float32Array(dst * stride);
  for (let i = 0; i < dst; i++) {
    const a = i * scale, b = Math.min(src, (i + 1) * scale);
    const s = Math.floor(a);
    let n = 0, total = 0;
    for (let k = s; k < b && n < stride; k++, n++) {
      const cover = Math.min(b, k + 1) - Math.max(a, k);
      w[i * stride + n] = cover;
      total += cover;
    }
    for (let k = 0; k < n; k++) w[i * stride + k] /= total;
    start[i] = s;
    count[i] = n;
  }
  return { start, count, w, stride };
}

/** Box-filter resample (down or up); separable, so cost is linear in source pixels. */
export function resize(img: Image8, width: number, height: number): Image8 {
  if (img.width === width && img.height === height) return img;
  if (img.width % width === 0 && img.height % height === 0) return shrinkByInteger(img, img.width / width, img.height / height);
  const ch = img.channels;
  const wx = weights(img.width, width), wy = weights(img.height, height);
  const tmp = new Float32Array(width * img.height * ch);
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width * ch;
    for (let x = 0; x < width; x++) {
      const s = wx.start[x], n = wx.count[x], base = x * wx.stride;
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += img.data[row + (s + k) * ch + c] * wx.w[base + k];
        tmp[(y * width + x) * ch + c] = acc;
      }
    }
  }
  const out = new Uint8Array(width * height * ch);
  const rowLen = width * ch;
  for (let y = 0; y < height; y++) {
    const s = wy.start[y], n = wy.count[y], base = y * wy.stride;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += tmp[(s + k) * rowLen + i] * wy.w[base + k];
      out[y * rowLen + i] = acc + 0.5;
    }
  }
  return { width, height, channels: ch, data: out };
}

/** Dimensions with the longest side equal to `maxSize`, aspect kept, never below 1 pixel. */
export function fitWithin(width: number, height: number, maxSize: number): { width: number; height: number } {
  const s = maxSize / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** Exact block averaging for integer factors (512→128 etc.), the common case for CT and MR. */
function shrinkByInteger(img: Image8, fx: number, fy: number): Image8 {
  const ch = img.channels;
  const width = img.width / fx, height = img.height / fy;
  const rowLen = width * ch;
  const out = new Uint8Array(rowLen * height);
  const half = (fx * fy) >> 1, area = fx * fy;
  const src = img.data;
  if (ch === 1) {
    // Grey, the common case: same sums, several times faster.
    const sums = boxSums(src, img.width, img.height, fx, fy);
    for (let i = 0; i < out.length; i++) out[i] = ((sums[i] + half) / area) | 0;
    return { width, height, channels: ch, data: out };
  }
  const acc = new Uint32Array(rowLen);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let sy = y * fy; sy < (y + 1) * fy; sy++) {
      let s = sy * img.width * ch;
      for (let x = 0; x < width; x++) {
        for (let k = 0; k < fx; k++) {
          for (let c = 0; c < ch; c++) acc[x * ch + c] += src[s++];
        }
      }
    }
    for (let i = 0; i < rowLen; i++) out[y * rowLen + i] = ((acc[i] + half) / area) | 0;
  }
  return { width, height, channels: ch, data: out };
}
