import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as jpeg from 'jpeg-js';
import { retrievalDataRoot } from '../../src/retrieval/dataset';
import { decodeImage, ImageDecodeError } from '../../src/retrieval/decode';
import { withSeed } from '../support/random.js';
import { noDatabase } from '../support/once.js';

noDatabase('decoding query images (no archive)');

function encode(width: number, height: number, pixel: (i: number) => [number, number, number], quality = 95): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([...pixel(i), 255], i * 4);
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

test('a JPEG of grey pixels decodes to them (within what the codec changes)', () => withSeed(async (random) => {
  const values = Array.from({ length: 48 }, () => random.int(0, 7) * 32);
  // Smooth 8x8 blocks survive quality 100 almost exactly.
  const px = (i: number) => values[Math.floor((i % 64) / 8) + 8 * Math.floor(Math.floor(i / 64) / 8)]!;
  const img = await decodeImage(encode(64, 48, (i) => [px(i), px(i), px(i)], 100));
  assert.equal(img.width, 64);
  assert.equal(img.height, 48);
  assert.equal(img.data.length, 64 * 48);
  for (let i = 0; i < img.data.length; i++) assert.ok(Math.abs(img.data[i]! - px(i)) <= 2, `pixel ${i}: ${img.data[i]} vs ${px(i)}`);
}));

test('a one-channel JPEG decodes to jpeg-js\'s pixels within ±1 (the IDCTs differ)', async () => {
  const dir = path.join(retrievalDataRoot(), 'val/HeadCT');
  for (const name of readdirSync(dir).sort().slice(0, 20)) {
    const bytes = readFileSync(path.join(dir, name));
    const ours = await decodeImage(bytes);
    const reference = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    assert.deepEqual([ours.width, ours.height], [reference.width, reference.height]);
    for (let i = 0; i < ours.data.length; i++) assert.ok(Math.abs(ours.data[i]! - reference.data[i * 4]!) <= 1, `${name} pixel ${i}`);
  }
});

test('a colour JPEG decodes to BT.601 luma, as PNGs do', async () => {
  const img = await decodeImage(encode(32, 32, () => [200, 100, 50]));
  const luma = Math.floor((299 * 200 + 587 * 100 + 114 * 50 + 500) / 1000);
  for (const v of img.data) assert.ok(Math.abs(v - luma) <= 2, `${v} vs ${luma}`);
});

test('bytes that start like a JPEG but are not one fail with ImageDecodeError', async () => {
  const good = encode(16, 16, () => [10, 10, 10]);
  await assert.rejects(decodeImage(Buffer.concat([good.subarray(0, 3), Buffer.from('not a jpeg at all')])), ImageDecodeError);
});
