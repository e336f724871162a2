import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeParsed, displayParsed, toDisplay8 } from '../../src/imaging/index';
import { parseImage } from '../../src/imaging/parse';
import { bytesOf, ctPhantom, makeDicom, type SyntheticOptions } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('decodes and windows pixels');

/** Random stored words over the whole 16-bit range, overlay bits above BitsStored included. */
function noise(n: number, seed: number, bytes: 1 | 2): Uint8Array {
  const out = bytes === 2 ? new Uint16Array(n) : new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = bytes === 2 ? x >>> 16 : x >>> 24;
  }
  return new Uint8Array(out.buffer);
}

async function bothWays(o: SyntheticOptions) {
  const parsed = parseImage(makeDicom(o));
  return { fast: await displayParsed(parsed), general: toDisplay8(await decodeParsed(parsed)) };
}

// Thumbnails and the retrieval model's input are made from these bytes at ingest: the table
// path must not move a single display value, or hash codes would differ from the model's.
describe('display values through a lookup table', () => {
  const cases: [string, SyntheticOptions][] = [
    ['CT with rescale and window', { pixels: bytesOf(ctPhantom()), rescale: { slope: 1, intercept: -1024 }, window: { center: 40, width: 400 } }],
    ['signed 16-bit, fractional slope', { pixels: noise(256 * 256, 7, 2), rows: 256, columns: 256, pixelRepresentation: 1, rescale: { slope: 0.37, intercept: -12.5 }, window: { center: 100, width: 3000 } }],
    ['12 of 16 bits stored, overlay bits set, signed', { pixels: noise(128 * 128, 11, 2), rows: 128, columns: 128, bitsStored: 12, pixelRepresentation: 1, window: { center: 0, width: 2048 } }],
    ['12 of 16 bits stored, unsigned, MONOCHROME1', { pixels: noise(128 * 96, 3, 2), rows: 128, columns: 96, bitsStored: 12, photometric: 'MONOCHROME1', window: { center: 1500, width: 900 } }],
    ['8-bit grey', { pixels: noise(64 * 64, 5, 1), rows: 64, columns: 64, bitsAllocated: 8, window: { center: 128, width: 100 } }],
    ['window of width 1', { pixels: noise(64 * 64, 9, 2), rows: 64, columns: 64, window: { center: 30000, width: 1 } }],
    ['three frames (the middle one is shown)', { pixels: noise(64 * 64 * 3, 13, 2), rows: 64, columns: 64, frames: 3, window: { center: 20000, width: 20000 } }],
  ];
  for (const [name, o] of cases) {
    it(`gives the general path's bytes: ${name}`, async () => {
      const { fast, general } = await bothWays(o);
      assert.deepEqual([fast.width, fast.height, fast.channels], [general.width, general.height, general.channels]);
      assert.ok(Buffer.from(fast.data).equals(Buffer.from(general.data)), 'display bytes differ');
    });
  }

  it('falls back to the data range when the window paints the frame one colour', async () => {
    const { fast, general } = await bothWays({ pixels: bytesOf(ctPhantom()), window: { center: -30000, width: 10 } });
    assert.ok(Buffer.from(fast.data).equals(Buffer.from(general.data)));
    assert.equal(new Set(fast.data).size > 1, true);
  });

  it('reports a truncated frame as the general path does', async () => {
    const parsed = parseImage(makeDicom({ pixels: bytesOf(ctPhantom()), window: { center: 40, width: 400 } }));
    parsed.pixelItems[0] = parsed.pixelItems[0]!.subarray(0, 1000);
    await assert.rejects(displayParsed(parsed), /too short|truncat/i);
  });
});
