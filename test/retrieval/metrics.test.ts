import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, popcount32, seededPermutation, toCodeSet } from '../../src/retrieval/metrics';
import { dHash, pHash } from '../../src/retrieval/perceptualHash';
import { listSplit } from '../../src/retrieval/dataset';
import { decodeImageFile } from '../../src/retrieval/decode';
import { hamming, hexToCode, codeToHex, outputsToCode } from '../../src/retrieval/code';
import { noDatabase } from '../support/once.js';

noDatabase('retrieval metrics');

test('average precision follows the (distance, id) ranking', () => {
  // ids 0..3 at distances 1, 0, 1, 2 from q=0; labels 1,0,1,1 relevant when label 1.
  const db = toCodeSet([0b1n, 0n, 0b10n, 0b11n], [1, 0, 1, 1]);
  // ranking: id1 (d0, irrelevant), id0 (d1), id2 (d1), id3 (d2) → precisions 1/2, 2/3, 3/4
  const ap = averagePrecision(0, 0, 1, db, 2);
  assert.equal(ap.full, (1 / 2 + 2 / 3 + 3 / 4) / 3);
  assert.equal(ap.atK, 1 / 2);
  assert.equal(ap.pAt10, 3 / 4, 'P@10 over a 4-image database counts 3 relevant of 4');
  assert.equal(averagePrecision(0, 0, 7, db, 30).full, 0);
});

test('code helpers', () => {
  assert.equal(popcount32(0xffffffff), 32);
  assert.equal(hamming(0n, (1n << 64n) - 1n), 64);
  const out = new Float32Array(64);
  out[0] = 0.1;
  out[63] = 2;
  out[5] = -3;
  const c = outputsToCode(out);
  assert.equal(codeToHex(c), '8000000000000001');
  assert.equal(hexToCode('8000000000000001'), c);
  assert.throws(() => hexToCode('123'));
  const p = seededPermutation(1000, 1);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...p.subarray(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('perceptual hashes: stable under a small brightness change, far apart across classes', async () => {
  const { files } = listSplit('val');
  const hand = await decodeImageFile(files.find((f) => f.key.startsWith('Hand/'))!.path);
  const head = await decodeImageFile(files.find((f) => f.key.startsWith('HeadCT/'))!.path);
  const brighter = { ...hand, data: hand.data.map((v) => Math.min(255, v + 4)) };
  for (const h of [pHash, dHash]) {
    const near = hamming(h(hand), h(brighter));
    const far = hamming(h(hand), h(head));
    assert.ok(near <= 6 && far >= 16, `${h.name}: near ${near}, far ${far}`);
  }
});
