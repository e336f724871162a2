import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedGroup, seedNeighbourCheck, type SeedImage } from '../../src/retrieval/seedArchive';
import { noDatabase } from '../support/once.js';

noDatabase("neighbours among the seed images' codes");

const img = (pair: string, series: number): SeedImage => ({ pair, source: 'test', series, gray: { width: 1, height: 1, data: new Uint8Array(1) } });

test('sites of one CT volume and both kinds of chest radiograph are one group each', () => {
  assert.equal(seedGroup('CT:KIDNEY'), seedGroup('CT:ABDOMENPELVIS'));
  assert.equal(seedGroup('CT:LUNG'), seedGroup('CT:CHEST'));
  assert.equal(seedGroup('DX:CHEST'), seedGroup('CR:CHEST'));
  assert.notEqual(seedGroup('DX:CHEST'), seedGroup('CT:CHEST'));
  assert.equal(seedGroup('NM:WHOLEBODY'), 'NM:WHOLEBODY');
});

test('the neighbour check counts images whose k nearest others share their group, and flags a chest X-ray near chest CT', () => {
  // Three chest radiographs with codes 0, 1, 3 and three chest CT slices at 0xff00…: each image's
  // 2 nearest others are of its group.
  const images = [img('DX:CHEST', 1), img('DX:CHEST', 2), img('CR:CHEST', 3), img('CT:CHEST', 4), img('CT:LUNG', 5), img('CT:CHEST', 4)];
  const far = 0xff00n << 48n;
  const codes = [0n, 1n, 3n, far, far | 1n, far | 2n];
  const ok = seedNeighbourCheck(images, codes, 2);
  assert.deepEqual([...ok.byGroup], [['CT chest', [3, 3]], ['chest X-ray', [3, 3]]]);
  assert.equal(ok.chestXrayKept, true);

  // The CR radiograph's code moves next to the chest CT codes: its own 2 nearest are chest CT.
  const moved = [...codes];
  moved[2] = far | 4n;
  const bad = seedNeighbourCheck(images, moved, 2);
  assert.equal(bad.chestXrayKept, false);
  assert.deepEqual(bad.byGroup.get('chest X-ray'), [0, 3], 'every radiograph now has a chest CT slice among its 2 nearest');
});
