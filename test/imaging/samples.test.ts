import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { j2kDecompositionLevels } from '../../src/imaging/decode';
import { decodeFrame, decodeFrameAtSize, PixelDataError, renderThumbnail, toDisplay8, toGray8, UnsupportedTransferSyntaxError } from '../../src/imaging/index';
import { resize } from '../../src/imaging/resize';
import { channel, pearson, PREVIEWS, readPng, sample, SAMPLES, stats } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('decodes the shared sample files');

/** The uncompressed MR_small and its lossless re-encodings must agree pixel for pixel. */
describe('lossless transfer syntaxes reproduce the uncompressed pixels', () => {
  const variants = [
    ['pydicom__MR_small_implicit.dcm', 'Implicit VR LE'],
    ['pydicom__MR_small_bigendian.dcm', 'Explicit VR BE'],
    ['pydicom__MR_small_RLE.dcm', 'RLE Lossless'],
    ['pydicom__MR_small_jpeg_ls_lossless.dcm', 'JPEG-LS lossless'],
    ['pydicom__MR_small_jp2klossless.dcm', 'JPEG 2000 lossless'],
  ];
  for (const [file, label] of variants) {
    it(`${label} (${file})`, async () => {
      const ref = await decodeFrame(sample('pydicom__MR_small.dcm'));
      const got = await decodeFrame(sample(file));
      assert.equal(got.rows, 64);
      assert.equal(got.columns, 64);
      assert.equal(got.samplesPerPixel, 1);
      assert.deepEqual(got.data, ref.data);
      assert.equal(got.windowCenter, 600);
      assert.equal(got.windowWidth, 1600);
    });
  }

  it('the reference itself has the content of a real MR slice (signed 16-bit, values 127..2145)', async () => {
    const ref = await decodeFrame(sample('pydicom__MR_small.dcm'));
    const s = stats(ref.data);
    assert.equal(s.min, 127);
    assert.equal(s.max, 2145);
    assert.ok(s.std > 300, `std ${s.std}`);
    // Independent check against the raw little-endian bytes after the (7FE0,0010) OW header.
    const raw = readFileSync(path.join(SAMPLES, 'pydicom__MR_small.dcm'));
    const header = raw.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57]));
    assert.ok(header > 0);
    assert.equal(raw.readUInt32LE(header + 8), 64 * 64 * 2);
    const start = header + 12;
    for (const i of [0, 1, 100, 4095]) assert.equal(ref.data[i], raw.readInt16LE(start + 2 * i));
  });

  it('RGB RLE (planar segments) decodes to the colour bars of the uncompressed stream', async () => {
    const f = await decodeFrame(sample('pydicom__SC_rgb_rle.dcm'));
    assert.equal(f.samplesPerPixel, 3);
    assert.equal(f.data.length, 100 * 100 * 3);
    // pydicom's SC_rgb images: first band pure red, then a lighter red.
    assert.deepEqual(Array.from(f.data.subarray(0, 3)), [255, 0, 0]);
    const row15 = 15 * 100 * 3;
    assert.deepEqual(Array.from(f.data.subarray(row15, row15 + 3)), [255, 128, 128]);
  });
});

describe('lossy and special transfer syntaxes', () => {
  it('JPEG baseline YBR_FULL is converted to RGB and matches the RLE twin closely', async () => {
    const jpeg = await decodeFrame(sample('pydicom__SC_rgb_jpeg_dcmtk.dcm'));
    const rle = await decodeFrame(sample('pydicom__SC_rgb_rle.dcm'));
    assert.equal(jpeg.samplesPerPixel, 3);
    let diff = 0;
    for (let i = 0; i < jpeg.data.length; i++) diff += Math.abs(jpeg.data[i] - rle.data[i]);
    assert.ok(diff / jpeg.data.length < 3, `mean abs diff ${diff / jpeg.data.length}`);
  });

  it('JPEG lossless SV1 (.70) decodes NM1; 12-bit JPEG extended (.51) and lossy J2K (.91) approximate it', async () => {
    const ll = await decodeFrame(sample('pydicomdata__JPEG-LL.dcm'));
    assert.equal(ll.columns, 256);
    assert.equal(ll.rows, 1024);
    const s = stats(ll.data);
    assert.equal(s.min, 0);
    assert.ok(s.max > 200 && s.max < 4096, `max ${s.max}`);
    assert.ok(s.std > 10, `std ${s.std}`);
    // The J2K sample is a 250-byte codestream, so it is allowed to be much rougher.
    for (const [file, tol, r] of [['pydicom__JPGExtended.dcm', 4, 0.98], ['pydicom__JPEG2000.dcm', 8, 0.9]] as const) {
      const other = await decodeFrame(sample(file));
      let diff = 0;
      for (let i = 0; i < ll.data.length; i++) diff += Math.abs(ll.data[i] - other.data[i]);
      assert.ok(diff / ll.data.length < tol, `${file}: mean abs diff ${diff / ll.data.length}`);
      assert.ok(pearson(ll.data, other.data) > r, file);
    }
  });

  it('JPEG-LS near-lossless 8-bit decodes', async () => {
    const f = await decodeFrame(sample('pydicom__JPEGLSNearLossless_08.dcm'));
    assert.equal(f.columns, 10);
    assert.equal(f.rows, 45);
    const s = stats(f.data);
    assert.ok(s.max <= 255 && s.min >= 0 && s.std > 10);
  });

  it('JPEG 2000 lossless YBR_RCT ultrasound equals the reference render of its uncompressed twin', async () => {
    const f = await decodeFrame(sample('pydicomdata__US1_J2KR.dcm'));
    const d = toDisplay8(f);
    const ref = readPng(readFileSync(path.join(PREVIEWS, 'US1_UNCR_render.png')));
    assert.equal(d.width, ref.width);
    assert.equal(d.height, ref.height);
    let diff = 0;
    for (let i = 0; i < d.width * d.height; i++) for (let c = 0; c < 3; c++) diff += Math.abs(d.data[i * 3 + c] - ref.data[i * 4 + c]);
    assert.ok(diff / (d.width * d.height * 3) < 1, `mean abs diff ${diff}`);
  });

  it('HTJ2K RGB decodes to a colour image', async () => {
    const f = await decodeFrame(sample('pydicomdata__HTJ2K_08_RGB.dcm'));
    assert.equal(f.samplesPerPixel, 3);
    assert.equal(f.columns, 640);
    const r = stats(f.data.filter((_, i) => i % 3 === 0)), b = stats(f.data.filter((_, i) => i % 3 === 2));
    assert.ok(r.std > 20 && b.std > 10);
    assert.notEqual(Math.round(r.mean), Math.round(b.mean), 'channels should differ in a colour photo');
  });

  it('Deflated Explicit VR LE data set decodes (512×512 8-bit)', async () => {
    const f = await decodeFrame(sample('pydicom__image_dfl.dcm'));
    assert.equal(f.columns, 512);
    const s = stats(f.data);
    assert.ok(s.min === 0 && s.max === 255 && s.std > 30);
  });

  it('Deflated Image Frame Compression SEG: 1-bit frames, middle frame by default', async () => {
    const f = await decodeFrame(sample('pydicomdata__liver_deflate.dcm'));
    assert.equal(f.numberOfFrames, 3);
    assert.equal(f.frameIndex, 1);
    const s = stats(f.data);
    assert.equal(s.min, 0);
    assert.equal(s.max, 1);
    assert.ok(s.mean > 0.01 && s.mean < 0.9, `segment fraction ${s.mean}`);
  });

  it('enhanced multi-frame: window from functional groups, frames differ, J2K frames match native frames', async () => {
    const ct = await decodeFrame(sample('pydicomdata__eCT_Supplemental.dcm'));
    assert.equal(ct.numberOfFrames, 2);
    assert.equal(ct.frameIndex, 0);
    assert.ok(ct.windowCenter !== null && ct.windowWidth !== null);
    assert.equal(stats(ct.data).min, -1024); // rescale from Pixel Value Transformation Sequence
    const native = await decodeFrame(sample('pydicomdata__emri_small.dcm'), 7);
    // The sample ends without its Sequence Delimitation Item, so the front door refuses it as
    // truncated (as de-identification does); with the 8 bytes restored its frames are whole.
    const cut = sample('pydicomdata__emri_small_jpeg_2k_lossless_too_short.dcm');
    await assert.rejects(decodeFrame(cut, 7), (e: unknown) => e instanceof PixelDataError && /truncated/.test(e.message));
    const closed = Buffer.concat([cut, Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
    const j2k = await decodeFrame(closed, 7);
    assert.deepEqual(j2k.data, native.data);
    const other = await decodeFrame(sample('pydicomdata__emri_small.dcm'), 2);
    assert.notDeepEqual(other.data, native.data);
  });
});

describe('photometric interpretations', () => {
  it('MONOCHROME1 is inverted for display', async () => {
    const f = await decodeFrame(sample('pydicom__dicomdirtests_CR1_6154.dcm'));
    assert.equal(f.photometricInterpretation, 'MONOCHROME1');
    const d = toDisplay8(f);
    let iMax = 0, iMin = 0;
    for (let i = 0; i < f.data.length; i++) { if (f.data[i] > f.data[iMax]) iMax = i; if (f.data[i] < f.data[iMin]) iMin = i; }
    assert.ok(d.data[iMax] < d.data[iMin], 'highest value must be darkest');
  });

  it('segmented 16-bit PALETTE COLOR renders in colour and agrees with the index render', async () => {
    const f = await decodeFrame(sample('pydicomdata__gdcm-US-ALOKA-16.dcm'));
    assert.equal(f.samplesPerPixel, 3);
    const grey = toGray8(f);
    const ref = readPng(readFileSync(path.join(PREVIEWS, 'gdcm-US-ALOKA-16_palette-index-render.png')));
    assert.equal(grey.width, ref.width);
    assert.ok(pearson(grey.data, channel(ref, 0)) > 0.7);
    // The scanner's green markers only exist through the palette.
    let green = 0;
    for (let i = 0; i < f.data.length; i += 3) if (f.data[i + 1] > f.data[i] + 60 && f.data[i + 1] > f.data[i + 2] + 60) green++;
    assert.ok(green > 50, `green pixels ${green}`);
  });
});

describe('errors', () => {
  it('truncated native pixel data raises PixelDataError', async () => {
    await assert.rejects(decodeFrame(sample('pydicom__MR_truncated.dcm')), (e: unknown) => e instanceof PixelDataError && /truncated/.test(e.message));
  });

  for (const file of ['pydicom__test-SR.dcm', 'pydicom__rtstruct.dcm', 'pydicom__ExplVR_LitEndNoMeta.dcm']) {
    it(`no pixel data: ${file}`, async () => {
      await assert.rejects(decodeFrame(sample(file)), (e: unknown) => e instanceof PixelDataError && e.message.startsWith('no pixel data'));
    });
  }

  it('a corrupt JPEG 2000 codestream raises PixelDataError: its size, read before the codec allocates for it, is not the header\'s', async () => {
    // The stray delimiter lands in the SIZ marker, which then declares 3,722,445,056 columns.
    await assert.rejects(decodeFrame(sample('pydicom__JPEG2000-embedded-sequence-delimiter.dcm')), (e: unknown) => e instanceof PixelDataError && /JPEG 2000 stream declares \d+x1024, the header 256x1024/.test(e.message));
  });

  it('a compressed frame whose stream declares a size other than the header\'s is refused before decoding (JPEG Lossless, JPEG-LS, JPEG 2000, baseline JPEG)', async () => {
    // Each sample's stream made to declare 30,000 × 30,000: decoded first, the JPEG Lossless one took 20 s and 3.6 GB.
    const bombs: [string, number, number][] = [
      ['pydicomdata__JPEG-LL.dcm', 0xc3, 5], ['pydicom__MR_small_jpeg_ls_lossless.dcm', 0xf7, 5],
      ['pydicom__SC_rgb_jpeg_dcmtk.dcm', 0xc0, 5], ['pydicom__MR_small_jp2klossless.dcm', 0x51, 6],
    ];
    for (const [file, marker, at] of bombs) {
      const bytes = Buffer.from(sample(file));
      const m = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === marker);
      assert.ok(m > 0, `${file} has its size marker`);
      if (marker === 0x51) { bytes.writeUInt32BE(30_000, m + at); bytes.writeUInt32BE(30_000, m + at + 4); } else { bytes.writeUInt16BE(30_000, m + at); bytes.writeUInt16BE(30_000, m + at + 2); }
      await assert.rejects(decodeFrame(bytes), (e: unknown) => e instanceof PixelDataError && /stream declares 30000x30000, the header/.test(e.message), file);
    }
  });

  // Imaging reads through src/dicom, so it refuses what de-identification refuses (issue 14):
  // a truncated RT plan is not "a file without pixels", and a headerless dataset behind a
  // stray byte is not guessed at.
  it('a truncated file is refused as truncated, not read as far as it goes', async () => {
    await assert.rejects(decodeFrame(sample('pydicom__rtplan_truncated.dcm')), (e: unknown) => e instanceof PixelDataError && /truncated/.test(e.message));
  });

  it('a headerless data set behind a stray leading byte is refused, as de-identification refuses it', async () => {
    await assert.rejects(decodeFrame(sample('pydicom__no_meta.dcm')), (e: unknown) => e instanceof PixelDataError && /not a DICOM file/.test(e.message));
  });
});

describe('every shared sample renders or fails cleanly', () => {
  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm')).sort();
  it('has the expected sample set', () => assert.ok(files.length >= 40, `${files.length} files`));
  for (const file of files) {
    it(file, { timeout: 20_000 }, async () => {
      let png: Buffer;
      try {
        png = await renderThumbnail(sample(file));
      } catch (e) {
        assert.ok(e instanceof PixelDataError || e instanceof UnsupportedTransferSyntaxError, `unexpected ${String(e)}`);
        assert.ok(e.message.length > 10);
        return;
      }
      const img = readPng(png);
      assert.equal(Math.max(img.width, img.height), 128);
      const s = stats(channel(img, 0));
      const g = stats(channel(img, 1));
      assert.ok(s.std > 2 || g.std > 2, `blank thumbnail (std ${s.std})`);
    });
  }
});

describe('reduced-resolution J2K decoding for thumbnails', () => {
  it('decodes only the needed wavelet levels and agrees with the full-resolution render', async () => {
    const file = sample('pydicomdata__RG3_J2KI.dcm');
    const reduced = await decodeFrameAtSize(file, undefined, 128);
    assert.equal(reduced.columns, 220); // 1760 / 2^3: the largest level still >= 128 px
    assert.equal(reduced.rows, 220);
    const full = await decodeFrame(file);
    assert.equal(full.columns, 1760);
    const small = resize(toDisplay8(full), 128, 128);
    const thumb = readPng(await renderThumbnail(file));
    assert.ok(pearson(small.data, channel(thumb, 0)) > 0.98);
  });

  it('reads the decomposition count from the COD marker', () => {
    // SOC, SIZ (length 2 = empty body for the test), COD with NL = 5.
    const cs = new Uint8Array([0xff, 0x4f, 0xff, 0x51, 0x00, 0x02, 0xff, 0x52, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05]);
    assert.equal(j2kDecompositionLevels(cs), 5);
  });
});
