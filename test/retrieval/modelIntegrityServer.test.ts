// A server whose hash model file is damaged (one byte flipped: onnxruntime loads it, and it gives
// most images another code) must not rank by it: similarImages and POST /query-images answer
// SERVICE_UNAVAILABLE, ingest archives images without a code and logs ModelIntegrityError, and
// putting the right file back heals the server without a restart.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { ReleaseState } from '../../src/domain.js';
import { Image } from '../../src/entities/index.js';
import { codeToHex } from '../../src/retrieval/code.js';
import { decodeImage } from '../../src/retrieval/decode.js';
import { DEFAULT_MODEL_PATH, HashModel } from '../../src/retrieval/HashModel.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection, processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, submitter, upload } from '../ingest/helpers.js';

const VAL = path.resolve(process.cwd(), '../shared/retrieval/val/HeadCT');
const DICOM = path.resolve(process.cwd(), '../shared/deid/dicom/pydicom__CT_small.dcm');
const BY_PIXELS = `query($b: String!) { similarImages(image: { base64: $b }, k: 3) { distance image { uid } } }`;
const BY_UID = `query($uid: String!) { similarImages(image: { uid: $uid }, k: 3) { distance image { uid } } }`;

describe('a server whose hash model file is not the pinned one', () => {
  let app: TestApp;
  let scratch: string;
  let modelFile: string;
  let images: { uid: string; bytes: Buffer }[];

  before(async () => {
    app = await startTestApp();
    // Three released images whose codes the right model made, as ingest did before the file was damaged.
    const files = readdirSync(VAL).sort().slice(0, 3).map((f) => readFileSync(path.join(VAL, f)));
    const em = (app.orm.em as EntityManager).fork();
    const c = await makeCollection(em, { title: 'model integrity', releaseState: ReleaseState.RELEASED, submitter: 'owner' }, { individuals: 1, studies: 1, series: 1, images: files.length, modality: 'CT' });
    const rows = await em.fork().find(Image, { series: { collection: c } }, { orderBy: { id: 'asc' } });
    const right = await HashModel.load();
    for (let i = 0; i < rows.length; i++) {
      const code = await right.hashImage(await decodeImage(files[i]!));
      rows[i]!.hashCode = codeToHex(code);
      app.hashCatalog.add(rows[i]!.id, rows[i]!.series.id, code);
    }
    await right.close();
    await em.fork().persistAndFlush(rows);
    images = rows.map((r, i) => ({ uid: r.uid, bytes: files[i]! }));

    // The server's model file, damaged: one byte flipped in the weights.
    scratch = mkdtempSync(path.join(tmpdir(), 'obia-model-server-'));
    modelFile = path.join(scratch, 'obia-hash64.onnx');
    const bytes = readFileSync(DEFAULT_MODEL_PATH);
    bytes[Math.floor(bytes.length / 2) + 3]! ^= 0x40;
    writeFileSync(modelFile, bytes);
    app.hashCatalog.modelPath = modelFile;
  });
  after(async () => {
    await app?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('answers similarImages by pixels with SERVICE_UNAVAILABLE, not with neighbours, and logs ModelIntegrityError', async () => {
    const res = await app.gql(BY_PIXELS, { b: images[0]!.bytes.toString('base64') });
    assert.equal(res.errors?.length, 1, JSON.stringify(res));
    assert.equal(res.errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
    assert.match(res.errors[0].message, /hash model failed its integrity check/);
    assert.equal(res.data?.similarImages ?? null, null);
    assert.ok(app.logs.some((l) => l.includes('ModelIntegrityError') && l.includes(modelFile) && l.includes('"level":50')), 'the refusal is logged as an error, naming the file');
  });

  it('answers POST /query-images with 503 SERVICE_UNAVAILABLE', async () => {
    const res = await fetch(`${app.url}/query-images`, { method: 'POST', body: new Uint8Array(images[0]!.bytes), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'SERVICE_UNAVAILABLE');
    assert.match(body.error, /hash model failed its integrity check/);
  });

  it('still answers a search by an archived image\'s uid: its stored code was made by the pinned model', async () => {
    const res = await app.gql(BY_UID, { uid: images[0]!.uid });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.deepEqual(res.data.similarImages.map((h: any) => h.image.uid).sort(), images.slice(1).map((i) => i.uid).sort());
  });

  it('ingest archives an image without a code rather than with a wrong one, and logs the error class', async () => {
    const token = await submitter(app);
    const submission = await createSubmission(app, token, { title: 'Model integrity', bioProjectAccession: 'PRJCA000002' });
    assert.equal((await upload(app, token, submission.uploadUrl, readFileSync(DICOM), 'ct.dcm')).status, 201);
    const outcome = await processToEnd(app, token, submission.id);
    assert.equal(outcome.ingested, 1, JSON.stringify(outcome));
    const [file] = (await fetchSubmission(app, token, submission.id)).files;
    const image = await (app.orm.em as EntityManager).fork().findOneOrFail(Image, { uid: file.imageUid });
    assert.equal(image.hashCode ?? null, null);
    assert.equal(app.hashCatalog.index.has(image.id), false);
    assert.ok(app.logs.some((l) => l.includes('no hash codes for a batch') && l.includes('ModelIntegrityError')), 'the hash product logs the error class');
  });

  it('heals once the right file is back, without a restart', async () => {
    copyFileSync(DEFAULT_MODEL_PATH, modelFile);
    const res = await app.gql(BY_PIXELS, { b: images[0]!.bytes.toString('base64') });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data.similarImages[0].distance, 0);
    assert.equal(res.data.similarImages[0].image.uid, images[0]!.uid);
  });
});
