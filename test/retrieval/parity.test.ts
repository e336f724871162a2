import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { codeToHex } from '../../src/retrieval/code';
import { retrievalDataRoot } from '../../src/retrieval/dataset';
import { decodeImageFile } from '../../src/retrieval/decode';
import { DEFAULT_MODEL_PATH, HashModel } from '../../src/retrieval/HashModel';
import { MODEL_SIDE, preprocess, resizeArea } from '../../src/retrieval/preprocess';
import { REPO, stretchNearest } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase("the model's codes against the training side's");

interface Fixture {
  modelSha256: string;
  items: { key: string; variant: string; inputSha256: string; code: string }[];
}

const fixture = JSON.parse(readFileSync(path.join(REPO, 'test/retrieval/fixtures/python-codes.json'), 'utf8')) as Fixture;

test('fixture belongs to the committed model', () => {
  assert.equal(createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex'), fixture.modelSha256);
});

test('TS preprocessing + onnxruntime codes equal the Python pipeline bit for bit', async () => {
  const model = await HashModel.load();
  const root = path.join(retrievalDataRoot(), 'val');
  assert.ok(fixture.items.length >= 90);
  for (const item of fixture.items) {
    let img = await decodeImageFile(path.join(root, item.key));
    const m = /^stretch(\d+)x(\d+)$/.exec(item.variant);
    if (m) img = stretchNearest(img, Number(m[1]), Number(m[2]));
    const x = preprocess(img);
    const sha = createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
    assert.equal(sha, item.inputSha256, `model input differs for ${item.key} ${item.variant}`);
    assert.equal(codeToHex(await model.hashImage(img)), item.code, `code differs for ${item.key} ${item.variant}`);
  }
  await model.close();
});

test('area resize: exact means, round half up, identity at equal size', () => {
  const img = { width: 4, height: 2, data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 8]) };
  // 2×1 output: boxes {0,1,4,5} sum 10 → 2.5 → 3; {2,3,6,8} sum 19 → 4.75 → 5
  assert.deepEqual([...resizeArea(img, 2, 1).data], [3, 5]);
  assert.deepEqual([...resizeArea(img, 4, 2).data], [...img.data]);
  // Upscaling repeats source pixels.
  assert.deepEqual([...resizeArea({ width: 2, height: 1, data: Uint8Array.from([10, 20]) }, 4, 1).data], [10, 10, 20, 20]);
  const x = preprocess({ width: 64, height: 64, data: new Uint8Array(4096).fill(255) });
  assert.equal(x.length, MODEL_SIDE * MODEL_SIDE);
  assert.equal(x[0], 1);
  assert.equal(preprocess({ width: 1, height: 1, data: Uint8Array.from([0]) })[MODEL_SIDE * MODEL_SIDE - 1], -1);
});
