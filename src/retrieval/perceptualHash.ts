/** 64-bit perceptual-hash baselines (the usual imagehash definitions) for evaluation. */
import { resizeArea, type Gray8Image } from './preprocess';

function bitsToCode(bits: ArrayLike<boolean>): bigint {
  let code = 0n;
  for (let i = 0; i < 64; i++) if (bits[i]) code |= 1n << BigInt(i);
  return code;
}

/** dHash: 9×8 thumbnail, bit = pixel brighter than its right-hand neighbour. */
export function dHash(img: Gray8Image): bigint {
  const s = resizeArea(img, 9, 8).data;
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits.push(s[y * 9 + x] > s[y * 9 + x + 1]);
  return bitsToCode(bits);
}

const N = 32;
const COS = (() => {
  const t = new Float64Array(N * N);
  for (let u = 0; u < N; u++) for (let x = 0; x < N; x++) t[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return t;
})();

/** pHash: 32×32 thumbnail, 2-D DCT-II, the 8×8 lowest frequencies compared with their median. */
export function pHash(img: Gray8Image): bigint {
  const s = resizeArea(img, N, N).data;
  const rows = new Float64Array(N * 8); // DCT along x, keeping 8 frequencies
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < 8; u++) {
      let acc = 0;
      for (let x = 0; x < N; x++) acc += s[y * N + x] * COS[u * N + x];
      rows[y * 8 + u] = acc;
    }
  }
  const low = new Float64Array(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let acc = 0;
      for (let y = 0; y < N; y++) acc += rows[y * 8 + u] * COS[v * N + y];
      low[v * 8 + u] = acc;
    }
  }
  const sorted = Float64Array.from(low).sort();
  const median = (sorted[31] + sorted[32]) / 2;
  return bitsToCode(Array.from(low, (c) => c > median));
}
