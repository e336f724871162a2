import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jpeg from 'jpeg-js';
import sharp from 'sharp';
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

test('one-channel JPEGs, small (jpeg-js) and large (libvips), decode to jpeg-js\'s pixels within ±1', () => withSeed(async (random) => {
  for (const [width, height] of [[64, 64], [320, 240]] as const) {
    const blocks = Array.from({ length: (width / 8) * (height / 8) }, () => random.int(0, 255));
    const raw = Buffer.from(Array.from({ length: width * height }, (_, i) => blocks[Math.floor((i % width) / 8) + (width / 8) * Math.floor(Math.floor(i / width) / 8)]!));
    const bytes = await sharp(raw, { raw: { width, height, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
    assert.equal((await sharp(bytes).metadata()).channels, 1);
    const ours = await decodeImage(bytes);
    const reference = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    assert.deepEqual([ours.width, ours.height], [width, height]);
    for (let i = 0; i < ours.data.length; i++) assert.ok(Math.abs(ours.data[i]! - reference.data[i * 4]!) <= 1, `${width}x${height} pixel ${i}: ${ours.data[i]} vs ${reference.data[i * 4]}`);
  }
}));

test('a colour JPEG decodes to BT.601 luma, as PNGs do', async () => {
  for (const side of [32, 256]) {
    const img = await decodeImage(encode(side, side, () => [200, 100, 50]));
    const luma = Math.floor((299 * 200 + 587 * 100 + 114 * 50 + 500) / 1000);
    for (const v of img.data) assert.ok(Math.abs(v - luma) <= 2, `${side}: ${v} vs ${luma}`);
  }
});

test('bytes that start like a JPEG but are not one fail with ImageDecodeError', async () => {
  const good = encode(16, 16, () => [10, 10, 10]);
  await assert.rejects(decodeImage(Buffer.concat([good.subarray(0, 3), Buffer.from('not a jpeg at all')])), ImageDecodeError);
});
