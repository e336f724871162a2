import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrame, isSupportedTransferSyntax, PixelDataError, renderThumbnail, toDisplay8, toGray8, UnsupportedTransferSyntaxError } from '../../src/imaging/index';
import { bytesOf, ctPhantom, makeDicom, readPng, stats } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('decodes synthetic images');

const ctFile = () => makeDicom({ pixels: bytesOf(ctPhantom()), rescale: { slope: 1, intercept: -1024 }, window: { center: 40, width: 400 } });

describe('generated 512×512 16-bit CT (uncompressed path)', () => {
  it('applies RescaleSlope/Intercept exactly', async () => {
    const px = ctPhantom();
    const f = await decodeFrame(ctFile());
    assert.equal(f.rows, 512);
    assert.equal(f.columns, 512);
    assert.equal(f.numberOfFrames, 1);
    for (const i of [0, 256 * 512 + 256, 200 * 512 + 100, 511 * 512 + 511]) assert.equal(f.data[i], px[i] - 1024);
    const s = stats(f.data);
    assert.equal(s.min, -1000);
    assert.equal(s.max, 1000);
  });

  it('windows with the DICOM linear VOI function', async () => {
    const f = await decodeFrame(ctFile());
    const d = toDisplay8(f);
    assert.equal(d.channels, 1);
    assert.equal(d.data[0], 0); // air below the window
    assert.equal(d.data[256 * 512 + 256], 255); // bone above it
    const i = 200 * 512 + 100;
    const expected = Math.round(((f.data[i] - 39.5) / 399 + 0.5) * 255);
    assert.ok(Math.abs(d.data[i] - expected) <= 1, `${d.data[i]} vs ${expected}`);
  });

  it('falls back to min/max without a window', async () => {
    const file = makeDicom({ pixels: bytesOf(ctPhantom()), rescale: { slope: 1, intercept: -1024 } });
    const d = toDisplay8(await decodeFrame(file));
    assert.equal(d.data[0], 0);
    assert.equal(d.data[256 * 512 + 256], 255);
    assert.ok(Math.abs(d.data[200 * 512 + 100] - 130) < 5); // ~40 HU sits mid-range of -1000..1000
  });

  it('thumbnail is a 128×128 PNG whose mean matches the downsampled display image', async () => {
    const file = ctFile();
    const png = readPng(await renderThumbnail(file));
    assert.equal(png.width, 128);
    assert.equal(png.height, 128);
    const full = stats(toDisplay8(await decodeFrame(file)).data);
    const grey = new Uint8Array(128 * 128).map((_, i) => png.data[i * 4]);
    const thumb = stats(grey);
    assert.ok(Math.abs(thumb.mean - full.mean) < 1.5, `${thumb.mean} vs ${full.mean}`);
    assert.ok(thumb.std > 50);
    const big = readPng(await renderThumbnail(file, { maxSize: 300 }));
    assert.equal(big.width, 300);
  });

  it('keeps aspect ratio for non-square images', async () => {
    const rows = 100, columns = 400;
    const px = new Uint16Array(rows * columns).map((_, i) => i % columns);
    const png = readPng(await renderThumbnail(makeDicom({ rows, columns, pixels: bytesOf(px) })));
    assert.equal(png.width, 128);
    assert.equal(png.height, 32);
    // Left edge dark, right edge bright: the gradient survives resampling.
    assert.ok(png.data[0] < 10 && png.data[(127) * 4] > 245);
  });
});

describe('pixel formats', () => {
  it('signed pixel representation', async () => {
    const px = new Int16Array([-2000, -1, 0, 1, 32767, -32768]);
    const f = await decodeFrame(makeDicom({ rows: 1, columns: 6, pixelRepresentation: 1, pixels: bytesOf(px) }));
    assert.deepEqual(Array.from(f.data), [-2000, -1, 0, 1, 32767, -32768]);
  });

  it('masks bits above BitsStored and sign-extends from it', async () => {
    // 12 bits stored with junk (e.g. overlay) in the top nibble.
    const unsigned = new Uint16Array([0xf123, 0x0fff, 0xa000]);
    const u = await decodeFrame(makeDicom({ rows: 1, columns: 3, bitsStored: 12, pixels: bytesOf(unsigned) }));
    assert.deepEqual(Array.from(u.data), [0x123, 0xfff, 0]);
    const s = await decodeFrame(makeDicom({ rows: 1, columns: 3, bitsStored: 12, pixelRepresentation: 1, pixels: bytesOf(unsigned) }));
    assert.deepEqual(Array.from(s.data), [0x123, -1, 0]);
  });

  it('multi-frame defaults to the middle frame and honours an explicit index', async () => {
    const frames = 5, n = 4 * 4;
    const px = new Uint16Array(frames * n).map((_, i) => Math.floor(i / n) * 100 + (i % n));
    const file = makeDicom({ rows: 4, columns: 4, frames, pixels: bytesOf(px) });
    const mid = await decodeFrame(file);
    assert.equal(mid.frameIndex, 2);
    assert.equal(mid.data[0], 200);
    const last = await decodeFrame(file, 4);
    assert.equal(last.data[15], 415);
    await assert.rejects(decodeFrame(file, 5), RangeError);
  });

  it('MONOCHROME1 inverts the display and the grey output', async () => {
    const px = new Uint16Array([0, 1000, 2000, 3000]);
    const m2 = toDisplay8(await decodeFrame(makeDicom({ rows: 2, columns: 2, pixels: bytesOf(px) })));
    const m1 = toDisplay8(await decodeFrame(makeDicom({ rows: 2, columns: 2, photometric: 'MONOCHROME1', pixels: bytesOf(px) })));
    assert.deepEqual(Array.from(m2.data), [0, 85, 170, 255]);
    assert.deepEqual(Array.from(m1.data), [255, 170, 85, 0]);
  });

  it('RGB planar configuration 0 and 1 give the same image', async () => {
    const rgb = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]];
    const interleaved = new Uint8Array(rgb.flat());
    const planar = new Uint8Array([0, 1, 2].flatMap((c) => rgb.map((p) => p[c])));
    const a = await decodeFrame(makeDicom({ rows: 2, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, pixels: interleaved }));
    const b = await decodeFrame(makeDicom({ rows: 2, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, planarConfiguration: 1, pixels: planar }));
    assert.deepEqual(Array.from(a.data), rgb.flat());
    assert.deepEqual(b.data, a.data);
    // BT.601 luma for the retrieval model.
    assert.deepEqual(Array.from(toGray8(a).data), [76, 150, 29, 18]);
  });

  it('YBR_FULL and YBR_FULL_422 are converted to RGB', async () => {
    // Pure red in full-range YCbCr: Y=76.245, Cb=84.97, Cr=255.5 → rounded below.
    const full = await decodeFrame(makeDicom({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, photometric: 'YBR_FULL', pixels: new Uint8Array([76, 85, 255, 128, 128, 128]) }));
    assert.ok(Math.abs(full.data[0] - 255) <= 2 && full.data[1] <= 3 && full.data[2] <= 3, Array.from(full.data).join());
    assert.deepEqual(Array.from(full.data.subarray(3)), [128, 128, 128]);
    // 422: Y1 Y2 Cb Cr for two pixels; neutral chroma → greys equal to luma.
    const sub = await decodeFrame(makeDicom({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, photometric: 'YBR_FULL_422', pixels: new Uint8Array([50, 200, 128, 128]) }));
    assert.deepEqual(Array.from(sub.data), [50, 50, 50, 200, 200, 200]);
  });

  it('PALETTE COLOR with 16-bit and 8-bit LUT entries', async () => {
    const entries = 4;
    const lut16 = (vals: number[]) => bytesOf(new Uint16Array(vals)).slice().buffer;
    const extra = (bits: number, r: number[], g: number[], b: number[]) => ({
      RedPaletteColorLookupTableDescriptor: [entries, 10, bits],
      GreenPaletteColorLookupTableDescriptor: [entries, 10, bits],
      BluePaletteColorLookupTableDescriptor: [entries, 10, bits],
      RedPaletteColorLookupTableData: lut16(r),
      GreenPaletteColorLookupTableData: lut16(g),
      BluePaletteColorLookupTableData: lut16(b),
    });
    // Indices below firstMapped (10) clamp to entry 0, above the table to the last entry.
    const pixels = new Uint8Array([10, 11, 12, 13, 0, 200]);
    const f16 = await decodeFrame(makeDicom({ rows: 1, columns: 6, bitsAllocated: 8, photometric: 'PALETTE COLOR', pixels,
      extra: extra(16, [0, 65535, 0, 32896], [0, 0, 65535, 32896], [65535, 0, 0, 32896]) }));
    assert.equal(f16.samplesPerPixel, 3);
    assert.deepEqual(Array.from(f16.data), [0, 0, 255, 255, 0, 0, 0, 255, 0, 128, 128, 128, 0, 0, 255, 128, 128, 128]);
    const f8 = await decodeFrame(makeDicom({ rows: 1, columns: 6, bitsAllocated: 8, photometric: 'PALETTE COLOR', pixels,
      extra: extra(8, [0, 255, 0, 128], [0, 0, 255, 128], [255, 0, 0, 128]) }));
    assert.deepEqual(f8.data, f16.data);
  });
});

describe('error cases', () => {
  it('unknown transfer syntax raises UnsupportedTransferSyntaxError carrying the UID', async () => {
    const uid = '1.2.840.10008.1.2.4.100'; // MPEG2 video
    assert.equal(isSupportedTransferSyntax(uid), false);
    assert.equal(isSupportedTransferSyntax('1.2.840.10008.1.2.4.201'), true);
    const file = makeDicom({ rows: 2, columns: 2, pixels: new Uint8Array(8), transferSyntax: uid });
    await assert.rejects(decodeFrame(file), (e: unknown) => e instanceof UnsupportedTransferSyntaxError && e.transferSyntaxUid === uid && e.message.includes(uid));
  });

  it('pixel data shorter than Rows×Columns raises PixelDataError', async () => {
    const file = makeDicom({ rows: 512, columns: 512, pixels: new Uint8Array(1000) });
    await assert.rejects(decodeFrame(file), (e: unknown) => e instanceof PixelDataError && /too short/.test(e.message));
  });

  it('a file cut inside Pixel Data raises PixelDataError instead of rendering zeros', async () => {
    const file = ctFile();
    await assert.rejects(decodeFrame(file.subarray(0, file.length - 5000)), (e: unknown) => e instanceof PixelDataError && /truncated/.test(e.message));
  });

  it('garbage input raises PixelDataError', async () => {
    await assert.rejects(decodeFrame(new Uint8Array(300).fill(7)), PixelDataError);
  });
});
