// Issue 22, point 2: zip expansion is capped (bytes, entries, and expansion ratio), and each
// submission and each submitter has a staging quota; a refused upload is a coded 413 and
// leaves nothing of itself behind, and uploads side by side cannot overshoot a quota together.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { loadConfig } from '../../src/config.js';
import { StagingArea, UploadError } from '../../src/ingest/staging.js';
import { Readable } from 'node:stream';
import { startTestApp, type TestApp } from '../support/app.js';
import { zeroZip } from './bombs.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';

const MB = 1024 * 1024;


/** Every file left under a submission's staging directory (temporary uploads included). */
function stagedFiles(app: TestApp, submissionId: number): string[] {
  const dir = path.join(app.config.stagingDir, 'submissions', String(submissionId));
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('zip expansion and staging quotas', () => {
  let app: TestApp;
  const file = () => makeCt({ patientId: 'Q-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 64 });
  const size = file().length;

  before(async () => {
    app = await startTestApp({ config: { ingest: { ...loadConfig({}).ingest, submissionQuotaBytes: 3 * size + 100, userQuotaBytes: 5 * size + 100 } } });
  });
  after(async () => { await app?.stop(); });

  it('refuses a small zip that expands a thousandfold, before writing its expansion, and keeps nothing of it', async () => {
    const token = await submitter(app, 'bomber');
    const sub = await createSubmission(app, token);
    const bomb = await zeroZip(512 * MB, 'scan/big.dcm');
    assert.ok(bomb.length < MB, `the bomb is small (${bomb.length} bytes)`);
    // Under the default bounds (this app's quotas are tiny): well under the per-file and per-zip byte limits, but a thousandfold.
    const staging = new StagingArea(app.config.stagingDir, loadConfig({}).ingest);
    await assert.rejects(staging.receive(Number(sub.id), Readable.from([bomb]), 'bomb.zip'), (e: unknown) => e instanceof UploadError && e.status === 413 && e.code === 'ZIP_BOMB' && /expands more than 100 times/.test(e.message));
    assert.deepEqual(stagedFiles(app, Number(sub.id)), [], 'no temporary body and no partial entry left behind');
    const res = await upload(app, token, sub.uploadUrl, bomb, 'bomb.zip');
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.deepEqual(stagedFiles(app, Number(sub.id)), []);
    assert.deepEqual((await fetchSubmission(app, token, sub.id)).files, []);
  });

  it('refuses a zip whose entry header lies about its size, while streaming it', async () => {
    const staging = new StagingArea(fs.mkdtempSync(path.join(app.config.dataDir, 'lie-')), { ...loadConfig({}).ingest, maxZipRatio: 10 });
    const zip = Buffer.from(zipSync({ 'a.dcm': new Uint8Array(4 * MB) }));
    // The local and central headers both declare 4 bytes uncompressed; the deflated stream holds 4 MB.
    const declared = Buffer.from(zip);
    const central = declared.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    declared.writeUInt32LE(4, 22); declared.writeUInt32LE(4, central + 24);
    await assert.rejects(staging.receive(1, Readable.from([declared]), 'lie.zip'), (e: unknown) => e instanceof UploadError && e.status >= 400);
    assert.deepEqual(fs.readdirSync(path.join(staging.root, 'submissions', '1')), []);
  });

  it('holds a submission to its staging quota and a submitter to theirs, with a coded refusal', async () => {
    const token = await submitter(app, 'quota-user');
    const a = await createSubmission(app, token);
    for (let i = 0; i < 3; i++) assert.equal((await upload(app, token, a.uploadUrl, file())).status, 201);
    const over = await upload(app, token, a.uploadUrl, file());
    assert.equal(over.status, 413);
    assert.match(over.body.error, /staging quota/);
    assert.equal(stagedFiles(app, Number(a.id)).filter((f) => !f.endsWith('.name')).length, 3);
    const b = await createSubmission(app, token);
    for (let i = 0; i < 2; i++) assert.equal((await upload(app, token, b.uploadUrl, file())).status, 201);
    const third = await upload(app, token, b.uploadUrl, file());
    assert.equal(third.status, 413);
    assert.match(third.body.error, /per-submitter staging quota/);
    // Another submitter is not held to this one's quota.
    const other = await submitter(app, 'someone-else');
    assert.equal((await upload(app, other, (await createSubmission(app, other)).uploadUrl, file())).status, 201);
  });

  it('uploads side by side cannot overshoot the quota together', async () => {
    const token = await submitter(app, 'parallel-user');
    const sub = await createSubmission(app, token);
    const results = await Promise.all(Array.from({ length: 8 }, () => upload(app, token, sub.uploadUrl, file())));
    assert.equal(results.filter((r) => r.status === 201).length, 3);
    assert.ok(results.every((r) => r.status === 201 || r.status === 413));
    assert.equal(stagedFiles(app, Number(sub.id)).filter((f) => !f.endsWith('.name')).length, 3);
    assert.equal((await fetchSubmission(app, token, sub.id)).files.length, 3);
  });

  it('keeps the staging disk above its floor, for one upload and for uploads side by side', async () => {
    const limits = { ...loadConfig({}).ingest, minFreeBytes: 100 * MB };
    const filesIn = (staging: StagingArea, id: number) => fs.readdirSync(path.join(staging.root, 'submissions', String(id))).filter((f) => !f.endsWith('.name'));
    const diskFull = (e: unknown) => e instanceof UploadError && e.status === 507 && e.code === 'DISK_FULL' && /nearly full/.test(e.message);
    // The real disk (statfs): no disk here has an exabyte free.
    const real = new StagingArea(fs.mkdtempSync(path.join(app.config.dataDir, 'disk-')), { ...limits, minFreeBytes: 2 ** 60 });
    await assert.rejects(real.receive(1, Readable.from([Buffer.alloc(1000)]), 'x.dcm'), diskFull);
    // A disk with room for 3.5 uploads above its floor (less what is staged on it) takes 3 of 8 sent at once.
    const root = fs.mkdtempSync(path.join(app.config.dataDir, 'disk-'));
    const stored = () => (fs.existsSync(path.join(root, 'submissions', '2')) ? filesIn(tight, 2).reduce((n, f) => n + fs.statSync(path.join(root, 'submissions', '2', f)).size, 0) : 0);
    const tight: StagingArea = new StagingArea(root, limits, async () => limits.minFreeBytes + 3.5 * MB - stored());
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => tight.receive(2, Readable.from([Buffer.alloc(MB)]), `${i}.dcm`)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    for (const r of results) if (r.status === 'rejected') assert.ok(diskFull(r.reason), String(r.reason));
    assert.equal(filesIn(tight, 2).length, 3, 'the refused uploads left nothing behind');
    // What was stored still counts against the reading: the next upload is refused too.
    await assert.rejects(tight.receive(2, Readable.from([Buffer.alloc(MB)]), 'late.dcm'), diskFull);
  });

  it('names the refusal for programs (UploadError.code)', async () => {
    const staging = new StagingArea(fs.mkdtempSync(path.join(app.config.dataDir, 'codes-')), { ...loadConfig({}).ingest, submissionQuotaBytes: 10 });
    await assert.rejects(staging.receive(7, Readable.from([Buffer.alloc(100)]), 'x.dcm'), (e: unknown) => e instanceof UploadError && e.code === 'SUBMISSION_QUOTA' && e.status === 413);
    const zipped = new StagingArea(fs.mkdtempSync(path.join(app.config.dataDir, 'codes-')), { ...loadConfig({}).ingest });
    await assert.rejects(zipped.receive(7, Readable.from([await zeroZip(200 * MB, 'scan/big.dcm')]), 'x.zip'), (e: unknown) => e instanceof UploadError && e.code === 'ZIP_BOMB');
  });
});
