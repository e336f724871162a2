import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hamming } from '../../src/retrieval/code';
import { listSplit } from '../../src/retrieval/dataset';
import { decodeImageFile } from '../../src/retrieval/decode';
import { HashModel } from '../../src/retrieval/HashModel';
import { noDatabase } from '../support/once.js';

noDatabase('the ONNX hashing model');

test('codes separate the six classes on a val sample', async () => {
  const { classes, files } = listSplit('val');
  const sample = classes.flatMap((_, c) => files.filter((f) => f.label === c).filter((_, i) => i % 25 === 0)); // 20 per class
  const model = await HashModel.load();
  const codes = await model.hashImages(await Promise.all(sample.map((f) => decodeImageFile(f.path))));
  await model.close();
  let within = 0, nWithin = 0, between = 0, nBetween = 0, top1 = 0;
  for (let i = 0; i < sample.length; i++) {
    let best = Infinity, bestLabel = -1;
    for (let j = 0; j < sample.length; j++) {
      if (i === j) continue;
      const d = hamming(codes[i], codes[j]);
      if (sample[i].label === sample[j].label) (within += d), nWithin++;
      else (between += d), nBetween++;
      if (d < best) (best = d), (bestLabel = sample[j].label);
    }
    if (bestLabel === sample[i].label) top1++;
  }
  within /= nWithin;
  between /= nBetween;
  assert.ok(within * 3 < between, `within-class ${within.toFixed(2)} vs between-class ${between.toFixed(2)}`);
  assert.ok(top1 / sample.length >= 0.95, `leave-one-out top-1 ${top1}/${sample.length}`);
  // Codes should use the bits: not all equal within a class.
  assert.ok(within > 0);
});
