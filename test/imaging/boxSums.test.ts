import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxSums } from '../../src/imaging/boxSums';
import { resize } from '../../src/imaging/resize';
import { resizeArea } from '../../src/retrieval/preprocess';
import { noDatabase } from '../support/once.js';

noDatabase('pixel arithmetic');

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return out;
}

function naiveSums(data: Uint8Array, width: number, fx: number, fy: number, outW: number, outH: number): number[] {
  const sums: number[] = [];
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let s = 0;
      for (let y = oy * fy; y < (oy + 1) * fy; y++) for (let x = ox * fx; x < (ox + 1) * fx; x++) s += data[y * width + x]!;
      sums.push(s);
    }
  }
  return sums;
}

// Thumbnails and the retrieval model's input both downscale through these sums; the model's
// input must match the Python preprocessing bit for bit, so the fast path is held to the plain sums.
describe('box sums for integer downscaling', () => {
  const shapes: [number, number, number, number][] = [[512, 512, 8, 8], [512, 512, 4, 4], [256, 128, 4, 2], [96, 64, 3, 2], [64, 64, 16, 32], [520, 8, 8, 8]];
  for (const [w, h, fx, fy] of shapes) {
    it(`${w}×${h} in ${fx}×${fy} boxes, saturated and random pixels`, () => {
      for (const data of [new Uint8Array(w * h).fill(255), noise(w * h, w + h + fx)]) {
        assert.deepEqual([...boxSums(data, w, h, fx, fy)], naiveSums(data, w, fx, fy, w / fx, h / fy));
      }
    });
  }

  it('reads an image that starts at an unaligned offset', () => {
    const backing = noise(64 * 64 + 1, 5);
    const data = backing.subarray(1);
    assert.deepEqual([...boxSums(data, 64, 64, 8, 8)], naiveSums(data, 64, 8, 8, 8, 8));
  });

  it('refuses sides that are not a multiple of the box', () => {
    assert.throws(() => boxSums(new Uint8Array(100), 10, 10, 4, 4), RangeError);
  });

  it('the model input is each 8×8 mean rounded half up', () => {
    const data = noise(512 * 512, 9);
    const sums = naiveSums(data, 512, 8, 8, 64, 64);
    assert.deepEqual([...resizeArea({ width: 512, height: 512, data }, 64, 64).data], sums.map((s) => Math.floor((2 * s + 64) / 128)));
  });

  it('a grey thumbnail is each 4×4 mean rounded half up', () => {
    const data = noise(512 * 512, 11);
    const sums = naiveSums(data, 512, 4, 4, 128, 128);
    assert.deepEqual([...resize({ width: 512, height: 512, channels: 1, data }, 128, 128).data], sums.map((s) => Math.floor((s + 8) / 16)));
  });
});
