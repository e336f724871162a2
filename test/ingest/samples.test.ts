// Every public sample in ../shared/deid/dicom goes through the real pipeline over HTTP:
// each ends indexed (or stored) or quarantined with a reason, none is lost, and what the
// archive stores parses again as DICOM carrying the de-identification marks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSourceIdentity } from '../../src/deid/index.js';
import { dcmjs } from '../../src/dicom/index.js';
import { Image } from '../../src/entities/index.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, submitter, upload } from './helpers.js';

const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
const FILES = fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm')).sort();

describe('sample DICOM files through the pipeline', () => {
  let app: TestApp;
  let token: string;
  let submission: { id: string; uploadUrl: string };
  let result: Awaited<ReturnType<typeof processToEnd>>;
  let files: any[];

  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
    submission = await createSubmission(app, token, { title: 'Public samples', bioProjectAccession: 'PRJCA000001' });
    for (const f of FILES) {
      const res = await upload(app, token, submission.uploadUrl, fs.readFileSync(path.join(SAMPLES, f)), f);
      assert.equal(res.status, 201, `${f}: ${JSON.stringify(res.body)}`);
    }
    result = await processToEnd(app, token, submission.id);
    files = (await fetchSubmission(app, token, submission.id)).files;
  });
  after(async () => app?.stop());

  it('accounts for every file exactly once', () => {
    assert.ok(FILES.length >= 30, `expected the shared samples, found ${FILES.length}`);
    assert.equal(files.length, FILES.length);
    assert.deepEqual(files.map((f) => f.originalName).sort(), FILES);
    assert.equal(result.ingested + result.quarantined + result.duplicates, FILES.length);
    assert.equal(result.pending, 0);
    for (const f of files) {
      assert.ok(['INDEXED', 'QUARANTINED', 'DUPLICATE'].includes(f.state), `${f.originalName}: ${f.state}`);
      if (f.state === 'QUARANTINED') {
        assert.ok(f.quarantineReason && f.quarantineMessage, `${f.originalName} quarantined without a reason`);
      }
    }
    assert.ok(result.ingested >= 15, `only ${result.ingested} samples ingested`);
  });

  it('quarantines the malformed samples with a parse reason', () => {
    const byName = new Map(files.map((f) => [f.originalName, f]));
    for (const name of ['pydicom__MR_truncated.dcm', 'pydicom__rtplan_truncated.dcm']) {
      const f = byName.get(name);
      if (!f) continue;
      assert.equal(f.state, 'QUARANTINED', `${name} should be quarantined`);
    }
  });

  it('stores each ingested file twice, as parseable de-identified DICOM, with an Image row', async () => {
    const em = app.orm.em.fork();
    const store = LocalBlobStore.fromConfig(app.config);
    for (const f of files.filter((x) => x.state === 'INDEXED')) {
      const primary = store.pathIn(store.primaryRoot, f.storedSha256);
      const backup = store.pathIn(store.backupRoot, f.storedSha256);
      assert.ok(primary.startsWith(path.join(app.config.dataDir, 'blobs')) && backup.startsWith(app.config.backupDir));
      const bytes = fs.readFileSync(primary);
      assert.deepEqual(fs.readFileSync(backup), bytes);
      const identity = readSourceIdentity(bytes);
      assert.match(identity.patientId ?? '', /^I\d{6}$/, `${f.originalName}: PatientID is the individual accession`);
      assert.equal(identity.sopInstanceUid, f.imageUid);
      const parsed = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      assert.equal(parsed.dict['00120062']?.Value?.[0], 'YES', 'PatientIdentityRemoved');
      const image = await em.findOne(Image, { uid: f.imageUid });
      assert.ok(image, `${f.originalName}: no Image row`);
      assert.equal(image!.sha256, f.storedSha256);
      assert.equal(image!.size, bytes.length);
    }
  });

  it('records images that may carry burned-in text as held for pixel review', () => {
    const held = files.filter((f) => f.heldForPixelReview);
    assert.ok(held.length > 0, 'some samples (US, secondary capture) must be held');
    for (const f of held) assert.ok(['INDEXED', 'QUARANTINED', 'DUPLICATE'].includes(f.state), f.state);
  });

  it('keeps the server serving after the bad samples', async () => {
    const res = await fetch(`${app.url}/health`);
    assert.equal(res.status, 200);
  });
});
