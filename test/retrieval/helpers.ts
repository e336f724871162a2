import * as path from 'node:path';
import type { Gray8Image } from '../../src/retrieval/preprocess';

export const REPO = process.cwd();
export const DIST_CLI = path.join(REPO, 'dist/src/retrieval/cli/hash.js');

/** Nearest-neighbour stretch, floor(o*S/D) — the same as training/obia_preprocess.py stretch_nearest. */
export function stretchNearest(img: Gray8Image, outW: number, outH: number): Gray8Image {
  const data = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.floor((y * img.height) / outH);
    for (let x = 0; x < outW; x++) data[y * outW + x] = img.data[sy * img.width + Math.floor((x * img.width) / outW)];
  }
  return { width: outW, height: outH, data };
}
