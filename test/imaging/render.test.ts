import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePng, renderMontage } from '../../src/imaging/index';
import { decodeRle } from '../../src/imaging/rle';
import { fitWithin, resize } from '../../src/imaging/resize';
import { bytesOf, ctPhantom, makeDicom, readPng, sample } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('encodes PNGs and montages');

describe('encodePng', () => {
  it('round-trips grey and RGB through an independent decoder (pngjs)', () => {
    const grey = new Uint8Array(7 * 5).map((_, i) => (i * 37) & 0xff);
    const g = readPng(encodePng({ width: 7, height: 5, channels: 1, data: grey }));
    assert.equal(g.width, 7);
    assert.deepEqual(Array.from(g.data.filter((_, i) => i % 4 === 0)), Array.from(grey));
    const rgb = new Uint8Array(3 * 4 * 3).map((_, i) => (i * 91) & 0xff);
    const c = readPng(encodePng({ width: 4, height: 3, channels: 3, data: rgb }));
    assert.deepEqual(Array.from(c.data.filter((_, i) => i % 4 !== 3)), Array.from(rgb));
  });

  it('rejects inconsistent sizes', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), RangeError);
  });
});

describe('resize', () => {
  it('area-averages when shrinking and keeps constant images constant', () => {
    const img = { width: 4, height: 2, channels: 1 as const, data: new Uint8Array([0, 100, 200, 255, 0, 100, 200, 255]) };
    const r = resize(img, 2, 1);
    assert.deepEqual(Array.from(r.data), [50, 228]);
    const flat = resize({ width: 5, height: 3, channels: 3, data: new Uint8Array(45).fill(77) }, 3, 2);
    assert.ok(flat.data.every((v) => v === 77));
  });

  it('fits the longest side', () => {
    assert.deepEqual(fitWithin(1760, 1760, 128), { width: 128, height: 128 });
    assert.deepEqual(fitWithin(256, 1024, 128), { width: 32, height: 128 });
    assert.deepEqual(fitWithin(10, 2000, 128), { width: 1, height: 128 });
  });
});

describe('decodeRle', () => {
  it('handles literal and replicate runs and splits 16-bit samples into MSB/LSB segments', () => {
    // Two pixels 0x0102, 0x0304 then two of 0x0505: MSB segment literal [1,3] + run of 5; LSB [2,4] + run of 5.
    const seg = (a: number, b: number) => [1, a, b, 255, 5]; // literal 2, then replicate 2
    const header = new Uint8Array(64);
    const dv = new DataView(header.buffer);
    dv.setUint32(0, 2, true);
    dv.setUint32(4, 64, true);
    dv.setUint32(8, 69, true);
    const frame = new Uint8Array([...header, ...seg(1, 3), ...seg(2, 4)]);
    const out = decodeRle(frame, 1, 4, 1, 16);
    assert.deepEqual(Array.from(new Uint16Array(out.buffer)), [0x0102, 0x0304, 0x0505, 0x0505]);
  });

  it('reports a short segment', () => {
    const header = new Uint8Array(64);
    new DataView(header.buffer).setUint32(0, 1, true);
    new DataView(header.buffer).setUint32(4, 64, true);
    assert.throws(() => decodeRle(new Uint8Array([...header, 0, 9]), 2, 2, 1, 8), /decoded 1 of 4/);
  });
});

describe('renderMontage', () => {
  it('lays out tiles in a grid, colour when any tile is colour, and survives a bad image', async () => {
    const ct = makeDicom({ pixels: bytesOf(ctPhantom()), rescale: { slope: 1, intercept: -1024 } });
    const images = [ct, sample('pydicom__SC_rgb_rle.dcm'), sample('pydicom__test-SR.dcm'), sample('pydicom__MR_small.dcm'), ct];
    const png = readPng(await renderMontage(images, { tile: 64, columns: 3 }));
    assert.equal(png.width, 192);
    assert.equal(png.height, 128);
    // Tile 2 (the SR, no pixels) shows the placeholder: its diagonal is light grey.
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    assert.deepEqual(at(128 + 10, 10), [160, 160, 160]);
    // Tile 1 is the colour bar image: its top band is red.
    assert.deepEqual(at(64 + 32, 2), [255, 0, 0]);
    // Centre of the CT phantom (bone) is white; corner (air) is black.
    assert.deepEqual(at(32, 32), [255, 255, 255]);
    assert.deepEqual(at(1, 1), [0, 0, 0]);
    // Last cell of the 3×2 grid is empty background.
    assert.deepEqual(at(191, 127), [0, 0, 0]);
  });

  it('defaults to a square-ish grid of 128 px tiles', async () => {
    const mr = sample('pydicom__MR_small.dcm');
    const png = readPng(await renderMontage([mr, mr, mr, mr, mr]));
    assert.equal(png.width, 3 * 128);
    assert.equal(png.height, 2 * 128);
  });
});
