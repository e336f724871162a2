// Screening's per-file checks start while files are uploaded (src/ingest/prescreen.ts): a
// result is used only for the staged file it was made from, so a file replaced or removed after
// its check is judged on what it holds when the pipeline runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CpuPool } from '../../src/ingest/cpuTasks.js';
import { Prescreen } from '../../src/ingest/prescreen.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

const ct = (patientId: string) => makeCt({ patientId, studyUid: uid(), seriesUid: uid(), sopUid: uid() });

describe('prescreen', () => {
  let pool: CpuPool;
  let dir: string;
  before(() => {
    pool = new CpuPool(1);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-prescreen-'));
  });
  after(async () => {
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the check made when the file was staged, once', async () => {
    const file = path.join(dir, 'a.dcm');
    fs.writeFileSync(file, ct('PRE-1'));
    const prescreen = new Prescreen((f) => pool.check(f));
    prescreen.start([file]);
    assert.equal(prescreen.size, 1);
    const result = await prescreen.take(file);
    assert.deepEqual(result, await pool.check(file));
    assert.equal(result!.findings.length, 0);
    assert.equal(await prescreen.take(file), undefined, 'a result is taken once');
  });

  it('gives nothing for a file rewritten, replaced or removed after its check', async () => {
    const prescreen = new Prescreen((f) => pool.check(f));
    const [rewritten, replaced, removed] = ['rewritten', 'replaced', 'removed'].map((n) => path.join(dir, `${n}.dcm`));
    for (const f of [rewritten!, replaced!, removed!]) fs.writeFileSync(f, ct('PRE-2'));
    prescreen.start([rewritten!, replaced!, removed!]);
    await prescreen.settled();
    fs.appendFileSync(rewritten!, Buffer.alloc(16));
    fs.writeFileSync(`${replaced}.new`, ct('PRE-3'));
    fs.renameSync(`${replaced}.new`, replaced!);
    fs.rmSync(removed!);
    assert.equal(await prescreen.take(rewritten!), undefined);
    assert.equal(await prescreen.take(replaced!), undefined);
    assert.equal(await prescreen.take(removed!), undefined);
  });

  it('starts no more checks than its bound of results; the files beyond are checked at screening', async () => {
    const prescreen = new Prescreen((f) => pool.check(f), 2);
    const files = ['b1', 'b2', 'b3'].map((n) => path.join(dir, `${n}.dcm`));
    for (const f of files) fs.writeFileSync(f, ct('PRE-4'));
    prescreen.start(files);
    assert.equal(prescreen.size, 2);
    assert.ok(await prescreen.take(files[0]!));
    assert.equal(await prescreen.take(files[2]!), undefined);
  });
});

describe('prescreen in the pipeline', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
  });
  after(async () => app?.stop());

  it('screens a file replaced after its check on arrival by what it holds at processing', async () => {
    const sub = await createSubmission(app, token);
    assert.equal((await upload(app, token, sub.uploadUrl, ct('PRE-5'), 'kept.dcm')).status, 201);
    assert.equal((await upload(app, token, sub.uploadUrl, ct('PRE-5'), 'swapped.dcm')).status, 201);
    const ingest = app.door.ingest!;
    await ingest.pipeline.prescreen.settled();
    assert.equal(ingest.pipeline.prescreen.size, 2, 'both files were checked on arrival');
    const rows: { staging_path: string }[] = await (app.orm.em.fork() as any).getKnex()('submission_file')
      .where({ submission_id: Number(sub.id) }).orderBy('id').select('staging_path');
    // The second staged file is swapped for one screening quarantines (no PatientID): its
    // check on arrival passed, and must not stand for the new bytes.
    const swapped = ingest.staging.absolute(rows[1]!.staging_path);
    fs.writeFileSync(`${swapped}.new`, ct(''));
    fs.renameSync(`${swapped}.new`, swapped);
    await processToEnd(app, token, sub.id);
    const files: any[] = (await fetchSubmission(app, token, sub.id)).files;
    assert.deepEqual(files.map((f) => [f.state, f.quarantineReason ?? null]), [['INDEXED', null], ['QUARANTINED', 'MISSING_PATIENT_ID']]);
    assert.equal(ingest.pipeline.prescreen.size, 0, 'screening took or dropped every result');
  });

  it('archives only the bytes received: a staged file altered since (one pixel flipped, or another valid image) is set aside', async () => {
    const sub = await createSubmission(app, token);
    for (const name of ['kept.dcm', 'flipped.dcm', 'replaced.dcm']) assert.equal((await upload(app, token, sub.uploadUrl, ct('PRE-6'), name)).status, 201);
    const ingest = app.door.ingest!;
    await ingest.pipeline.prescreen.settled();
    const rows: { staging_path: string }[] = await (app.orm.em.fork() as any).getKnex()('submission_file')
      .where({ submission_id: Number(sub.id) }).orderBy('id').select('staging_path');
    // Both alterations screen, identify and de-identify cleanly: only the received hash tells them apart.
    const flipped = ingest.staging.absolute(rows[1]!.staging_path);
    const bytes = fs.readFileSync(flipped);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(flipped, bytes);
    fs.writeFileSync(ingest.staging.absolute(rows[2]!.staging_path), ct('PRE-6'));
    await processToEnd(app, token, sub.id);
    const files: any[] = (await fetchSubmission(app, token, sub.id)).files;
    assert.deepEqual(files.map((f) => [f.originalName, f.state, f.quarantineReason ?? null]), [
      ['kept.dcm', 'INDEXED', null], ['flipped.dcm', 'QUARANTINED', 'STAGING_CHANGED'], ['replaced.dcm', 'QUARANTINED', 'STAGING_CHANGED'],
    ]);
    assert.equal(files[0].storedSha256 !== null, true);
    assert.equal(files[1].storedSha256, null, 'nothing of the altered file was archived');
  });
});
