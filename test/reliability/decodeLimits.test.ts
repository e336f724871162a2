// Issue 22, point 2: the decoded size of an image is bounded from its header, before any
// decoder allocates. A tiny PNG, JPEG or compressed DICOM that declares 16,000 × 16,000 pixels
// is refused with a typed error (BAD_USER_INPUT; IMAGE_TOO_LARGE quarantine), not decoded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { DecodeLimitError, decodeFrame, PixelDataError, setDecodeLimits } from '../../src/imaging/index.js';
import { decodeImage } from '../../src/retrieval/decode.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';
import { processToEnd } from '../support/kit.js';
import { encapsulatedCt, jpegHeaderBomb, pngBomb, rleDicomBomb } from './bombs.js';

const SIMILAR = `query($image: ImageQueryInput!) { similarImages(image: $image, k: 5) { distance } }`;
const MB = 1024 * 1024;

describe('decoded size is bounded before decoding', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('similarImages refuses a 250 KB PNG of 16,000 × 16,000 pixels as BAD_USER_INPUT without allocating it', async () => {
    const png = await pngBomb(16_000);
    assert.ok(png.length < 400_000, `the bomb is small (${png.length} bytes)`);
    const before = process.memoryUsage().rss;
    const res = await app.gql(SIMILAR, { image: { base64: png.toString('base64') } });
    assert.equal(res.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0].message, /16000x16000 pixels, more than the limit/);
    assert.ok(process.memoryUsage().rss - before < 200 * MB, 'no 1 GB RGBA buffer was allocated');
  });

  it('similarImages refuses a JPEG declaring 14,000 × 14,000 pixels the same way', async () => {
    const res = await app.gql(SIMILAR, { image: { base64: jpegHeaderBomb(14_000).toString('base64') } });
    assert.equal(res.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0].message, /JPEG declares 14000x14000 pixels/);
  });

  it('an ordinary PNG still decodes, and the bound is configurable', async () => {
    const small = await pngBomb(512);
    assert.equal((await decodeImage(small)).width, 512);
    const previous = setDecodeLimits({ maxQueryPixels: 100 * 100 });
    try {
      await assert.rejects(decodeImage(small), /512x512 pixels, more than the limit of 10000/);
    } finally {
      setDecodeLimits(previous);
    }
  });

  it('a DICOM frame larger than the bound is refused from its header with DecodeLimitError', async () => {
    const bomb = rleDicomBomb(16_000);
    assert.ok(bomb.length < 8 * MB);
    await assert.rejects(decodeFrame(bomb), (e: unknown) => e instanceof DecodeLimitError && /16000x16000 pixels exceeds the limit/.test((e as Error).message));
    // Many frames of a size each allowed can still add up past the whole-image bound.
    const previous = setDecodeLimits({ maxImageBytes: 1000 });
    try {
      await assert.rejects(decodeFrame(rleDicomBomb(64)), DecodeLimitError);
    } finally {
      setDecodeLimits(previous);
    }
    assert.equal((await decodeFrame(rleDicomBomb(64))).rows, 64);
  });

  it('a Deflated Image Frame is inflated to at most the frame its header declares: a 64 × 64 frame of 20 MB of zeros is refused', async () => {
    const zeros = zlib.deflateRawSync(Buffer.alloc(20 * MB), { level: 9 });
    assert.ok(zeros.length < 200 * 1024, `${zeros.length} bytes deflated`);
    const deflatedFrame = (frame: Buffer) => encapsulatedCt(64, frame, '1.2.840.10008.1.2.8.1');
    await assert.rejects(decodeFrame(deflatedFrame(zeros)), (e: unknown) => e instanceof PixelDataError && /inflates past the 4096 bytes/.test((e as Error).message));
    const ordinary = await decodeFrame(deflatedFrame(zlib.deflateRawSync(Buffer.alloc(64 * 64, 9))));
    assert.equal(ordinary.rows, 64);
  });

  it('ingest quarantines a 4 MB RLE DICOM that decodes to 16,000 × 16,000 as IMAGE_TOO_LARGE and ingests the rest', async () => {
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    const [study, series] = [uid(), uid()];
    assert.equal((await upload(app, token, sub.uploadUrl, rleDicomBomb(16_000, { patientId: 'BIG-1', studyUid: study, seriesUid: uid() }), 'bomb.dcm')).status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'BIG-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i + 1 }))).status, 201);
    const before = process.memoryUsage().rss;
    const result = await processToEnd(app, token, sub.id);
    assert.deepEqual({ ingested: result.ingested, quarantined: result.quarantined }, { ingested: 3, quarantined: 1 });
    const bomb = (await fetchSubmission(app, token, sub.id)).files.find((f: any) => f.state === 'QUARANTINED');
    assert.equal(bomb.quarantineReason, 'IMAGE_TOO_LARGE');
    assert.match(bomb.quarantineMessage, /exceeds the limit/);
    assert.ok(process.memoryUsage().rss - before < 300 * MB, 'the frame was never decoded');
  });
});
