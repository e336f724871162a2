// Regression: images whose Image Pixel Module the archive cannot render (SamplesPerPixel 0,
// BitsAllocated 12, BitsStored past BitsAllocated, PALETTE COLOR without its tables …) passed
// screening, which decodes only compressed pixels, and were archived without a thumbnail for a
// viewer to fail on. Screening now refuses them by the renderer's own rule
// (src/imaging/pixelModule.ts) as UNSUPPORTED_PIXEL_MODULE: quarantined, never archived.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DicomDataset } from '../../src/dicom/index.js';
import { displayParsed, parseImage, renderThumbnail, UnsupportedPixelModuleError } from '../../src/imaging/index.js';
import { checkFile, QcReason } from '../../src/qc/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildImage } from '../support/dicom.js';
import { processToEnd } from '../support/kit.js';
import { withSeed, type Random } from '../support/random.js';
import { image, JPEG_BASELINE } from './fixtures.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';

/** What ingest's screening runs on every received file (src/ingest/cpuWorker.ts). */
const SCREENING = { decodePixels: 'compressed' } as const;

const us = (...v: number[]) => ({ vr: 'US', Value: v });
const ow = (bytes: number) => ({ vr: 'OW', Value: [new Uint8Array(bytes).map((_, i) => (i * 37) & 0xff).buffer] });

/** A Red, Green and Blue palette: descriptors (entries, first mapped, bits) and `bytes` of data each. */
function palette(entries: number, bits: number, bytes = entries * 2): DicomDataset {
  return {
    '00281101': us(entries, 0, bits), '00281102': us(entries, 0, bits), '00281103': us(entries, 0, bits),
    '00281201': ow(bytes), '00281202': ow(bytes), '00281203': ow(bytes),
  };
}

interface Header {
  samplesPerPixel?: number;
  photometric?: string;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  planarConfiguration?: number;
  extra?: DicomDataset;
}

let built = 0;

/**
 * A 16 × 16 CT built by the test kit's DICOM builder with the pixel module as given, and a
 * Pixel Data value as long as that module says (so no length check can be what refuses it).
 */
function withHeader(h: Header): Buffer {
  const spp = h.samplesPerPixel ?? 1, ba = h.bitsAllocated ?? 16, bs = h.bitsStored ?? ba;
  const pi = h.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2');
  const samples = spp === 3 && /^YBR_(FULL|PARTIAL)_42[02]$/.test(pi) ? 2 : spp;
  const bytes = Math.max(2, Math.ceil((16 * 16 * samples * ba) / 8));
  const extra: DicomDataset = {
    '00280002': us(spp), '00280004': { vr: 'CS', Value: [pi] }, '00280100': us(ba), '00280101': us(bs),
    '00280102': us(h.highBit ?? bs - 1), '00280103': us(h.pixelRepresentation ?? 0), ...h.extra,
  };
  if (h.planarConfiguration !== undefined) extra['00280006'] = us(h.planarConfiguration);
  return buildImage({
    patientId: 'PX-1', study: '1.2.826.0.1.3680043.99.41.1', series: '1.2.826.0.1.3680043.99.41.2', sop: `1.2.826.0.1.3680043.99.41.3.${++built}`,
    samplesPerPixel: spp === 3 ? 3 : 1, bitsAllocated: ba === 8 ? 8 : 16,
    pixels: new Uint8Array(bytes + (bytes % 2)).map((_, i) => (i * 13 + built) & 0xff), extra,
  });
}

/** Whether the archive's renderer makes a thumbnail of the file, both ways ingest and viewers take. */
async function renders(bytes: Uint8Array): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await renderThumbnail(bytes);
    await displayParsed(parseImage(bytes));
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

const HOSTILE: [string, Header, RegExp][] = [
  ['SamplesPerPixel 0', { samplesPerPixel: 0 }, /SamplesPerPixel 0/],
  ['SamplesPerPixel 2', { samplesPerPixel: 2 }, /SamplesPerPixel 2/],
  ['SamplesPerPixel 4 (retired ARGB)', { samplesPerPixel: 4, photometric: 'ARGB', bitsAllocated: 8 }, /SamplesPerPixel 4/],
  ['BitsAllocated 12', { bitsAllocated: 12, bitsStored: 12 }, /BitsAllocated 12/],
  ['BitsAllocated 24', { bitsAllocated: 24, bitsStored: 24 }, /BitsAllocated 24/],
  ['BitsStored 0', { bitsStored: 0, highBit: 15 }, /BitsStored 0/],
  ['BitsStored past BitsAllocated', { bitsAllocated: 8, bitsStored: 12, highBit: 7 }, /BitsStored 12 with BitsAllocated 8/],
  ['HighBit past BitsAllocated', { bitsStored: 12, highBit: 20 }, /HighBit 20/],
  ['HighBit below BitsStored - 1', { bitsStored: 12, highBit: 3 }, /HighBit 3/],
  ['PixelRepresentation 2', { pixelRepresentation: 2 }, /PixelRepresentation 2/],
  ['PlanarConfiguration 2', { samplesPerPixel: 3, bitsAllocated: 8, planarConfiguration: 2 }, /PlanarConfiguration 2/],
  ['PALETTE COLOR without its tables', { photometric: 'PALETTE COLOR' }, /Red Palette Color Lookup Table Descriptor/],
  ['PALETTE COLOR with descriptors but no data', {
    photometric: 'PALETTE COLOR', extra: { '00281101': us(256, 0, 16), '00281102': us(256, 0, 16), '00281103': us(256, 0, 16) },
  }, /without Red Palette Color Lookup Table Data/],
  ['PALETTE COLOR without its Blue table', {
    photometric: 'PALETTE COLOR', extra: Object.fromEntries(Object.entries(palette(256, 16)).filter(([t]) => !t.endsWith('03'))),
  }, /Blue Palette Color Lookup Table Descriptor/],
  ['PALETTE COLOR whose data is shorter than its descriptor', { photometric: 'PALETTE COLOR', extra: palette(256, 16, 100) }, /holds 100 bytes.*256 entries/],
  ['PALETTE COLOR with 12-bit entries', { photometric: 'PALETTE COLOR', extra: palette(256, 12) }, /12 bits per entry/],
  ['PALETTE COLOR with three samples', { samplesPerPixel: 3, photometric: 'PALETTE COLOR', bitsAllocated: 8, extra: palette(256, 16) }, /PALETTE COLOR with SamplesPerPixel 3/],
  ['uncompressed YBR_PARTIAL_420', { samplesPerPixel: 3, photometric: 'YBR_PARTIAL_420', bitsAllocated: 8 }, /YBR_PARTIAL_420 is defined for compressed/],
];

const RENDERABLE: [string, Header][] = [
  ['12 bits stored high in a 16-bit word (HighBit 15, as older writers do)', { bitsStored: 12, highBit: 15 }],
  ['a 1-bit image', { bitsAllocated: 1, bitsStored: 1 }],
  ['32-bit samples', { bitsAllocated: 32, bitsStored: 32 }],
  ['signed 16-bit samples', { pixelRepresentation: 1 }],
  ['planar RGB', { samplesPerPixel: 3, bitsAllocated: 8, planarConfiguration: 1 }],
  ['uncompressed YBR_FULL_422', { samplesPerPixel: 3, photometric: 'YBR_FULL_422', bitsAllocated: 8 }],
  ['PALETTE COLOR with 16-bit tables', { photometric: 'PALETTE COLOR', extra: palette(256, 16) }],
  ['PALETTE COLOR with 8-bit tables, one entry a byte', { photometric: 'PALETTE COLOR', bitsAllocated: 8, extra: palette(256, 8, 256) }],
];

describe('screening refuses a pixel module the archive cannot render', () => {
  for (const [what, header, message] of HOSTILE) {
    it(`${what}: quarantined as UNSUPPORTED_PIXEL_MODULE, and the renderer refuses it alike`, async () => {
      const bytes = withHeader(header);
      const screened = await checkFile(bytes, SCREENING);
      assert.equal(screened.findings[0]?.reason, QcReason.UNSUPPORTED_PIXEL_MODULE, JSON.stringify(screened.findings));
      assert.match(screened.findings[0].message, message);
      // Decoding every pixel, as a curator's re-check does, names the same reason.
      assert.equal((await checkFile(bytes)).findings[0]?.reason, QcReason.UNSUPPORTED_PIXEL_MODULE);
      const rendered = await renders(bytes);
      assert.ok(!rendered.ok && rendered.error instanceof UnsupportedPixelModuleError, `the renderer refuses ${what} by the same rule`);
    });
  }

  for (const [what, header] of RENDERABLE) {
    it(`${what}: passes, and renders`, async () => {
      const bytes = withHeader(header);
      assert.deepEqual((await checkFile(bytes, SCREENING)).findings, []);
      assert.deepEqual((await checkFile(bytes)).findings, []);
      const rendered = await renders(bytes);
      assert.ok(rendered.ok, `${what}: ${rendered.ok ? '' : String(rendered.error)}`);
    });
  }

  it('a compressed image is judged by its header too, before its stream is decoded', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x40, 0x00, 1, 2, 3, 4, 5, 6]);
    const bytes = image({ bits: 8, rows: 8, columns: 8, pixels: jpeg, transferSyntax: JPEG_BASELINE, extra: { '00280002': us(0) } });
    const screened = await checkFile(bytes, SCREENING);
    assert.deepEqual(screened.findings.map((f) => f.reason), [QcReason.UNSUPPORTED_PIXEL_MODULE]);
  });

  it('no public sample or seed image is refused for its pixel module', async () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of fs.readdirSync(dir)) {
        const p = path.join(dir, name);
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (!/\.(gz|md|tsv)$/.test(name)) files.push(p);
      }
    };
    walk(path.resolve(process.cwd(), '../shared/deid/dicom'));
    walk(path.resolve(process.cwd(), '../shared/seed-images'));
    assert.ok(files.length >= 60, `expected the shared samples and seed images, found ${files.length}`);
    let rendered = 0;
    for (const file of files) {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const screened = await checkFile(bytes, SCREENING);
      assert.ok(!screened.findings.some((f) => f.reason === QcReason.UNSUPPORTED_PIXEL_MODULE), `${path.basename(file)}: ${JSON.stringify(screened.findings)}`);
      if ((await renders(bytes)).ok) rendered++;
    }
    // The palette US, the 1-bit deflated frame and the 32-bit image among them.
    assert.ok(rendered >= 50, `only ${rendered} render`);
  });
});

/** A pixel module drawn from values on both sides of every rule. */
function randomHeader(random: Random): Header {
  const pick = <T>(xs: readonly T[]): T => xs[random.int(0, xs.length - 1)];
  const bitsAllocated = pick([1, 8, 8, 12, 16, 16, 24, 32]);
  const bitsStored = pick([0, 1, bitsAllocated - 4, bitsAllocated - 1, bitsAllocated, bitsAllocated, bitsAllocated + 1].filter((x) => x >= 0));
  const photometric = pick(['MONOCHROME2', 'MONOCHROME1', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_420', 'PALETTE COLOR', 'PALETTE COLOR']);
  return {
    samplesPerPixel: pick([0, 1, 1, 1, 2, 3, 3, 4]),
    photometric,
    bitsAllocated,
    bitsStored,
    highBit: pick([bitsStored - 2, bitsStored - 1, bitsStored - 1, bitsAllocated - 1, bitsAllocated].filter((x) => x >= 0)),
    pixelRepresentation: pick([0, 1, 1, 2]),
    planarConfiguration: pick([undefined, 0, 1, 2]),
    extra: photometric !== 'PALETTE COLOR' ? {} : pick([{}, palette(256, 16), palette(256, 16), palette(256, 8, 256), palette(256, 16, 64), palette(4096, 12)]),
  };
}

describe('screening and the renderer agree on every pixel module (seeded)', () => {
  it('a file passes screening exactly when the archive renders it', () => withSeed(async (random) => {
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const header = randomHeader(random);
      const bytes = withHeader(header);
      const screened = await checkFile(bytes, SCREENING);
      const rendered = await renders(bytes);
      const why = rendered.ok ? 'renders' : String(rendered.error);
      assert.equal(screened.findings.length === 0, rendered.ok, `${JSON.stringify({ ...header, extra: Object.keys(header.extra ?? {}) })}: screening ${JSON.stringify(screened.findings)}, renderer: ${why}`);
      if (!rendered.ok) {
        refused++;
        assert.equal(screened.findings[0].reason, QcReason.UNSUPPORTED_PIXEL_MODULE, why);
      }
    }
    assert.ok(refused > 50 && refused < 380, `a mix of renderable and refused modules (${refused} refused)`);
  }));
});

describe('ingest quarantines an unrenderable pixel module and archives nothing of it', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
  });
  after(async () => app?.stop());

  it('SamplesPerPixel 0, BitsAllocated 12, BitsStored 0 and a bare PALETTE COLOR are QUARANTINED with UNSUPPORTED_PIXEL_MODULE; the good CT beside them is INDEXED', async () => {
    const sub = await createSubmission(app, token);
    const study = uid(), series = uid();
    const ct = (extra: DicomDataset) => makeCt({ patientId: 'PX-INGEST', studyUid: study, seriesUid: series, sopUid: uid(), extra });
    const inputs: Record<string, Buffer> = {
      'spp0.dcm': ct({ '00280002': us(0) }),
      'ba12.dcm': ct({ '00280100': us(12), '00280101': us(12), '00280102': us(11) }),
      'bs0.dcm': ct({ '00280101': us(0) }),
      'palette.dcm': ct({ '00280004': { vr: 'CS', Value: ['PALETTE COLOR'] } }),
      'good.dcm': ct({}),
    };
    for (const [name, bytes] of Object.entries(inputs)) assert.equal((await upload(app, token, sub.uploadUrl, bytes, name)).status, 201, name);
    const result = await processToEnd(app, token, sub.id);
    assert.deepEqual({ ingested: result.ingested, quarantined: result.quarantined, pending: result.pending }, { ingested: 1, quarantined: 4, pending: 0 });
    const files = new Map<string, any>((await fetchSubmission(app, token, sub.id)).files.map((f: any) => [f.originalName, f]));
    assert.equal(files.get('good.dcm').state, 'INDEXED');
    for (const name of ['spp0.dcm', 'ba12.dcm', 'bs0.dcm', 'palette.dcm']) {
      const f = files.get(name);
      assert.deepEqual([f.state, f.quarantineReason, f.imageUid], ['QUARANTINED', 'UNSUPPORTED_PIXEL_MODULE', null], name);
      assert.match(f.quarantineMessage, /cannot render this pixel module/, name);
    }
  });
});
