// Bad input: each kind gets a clear error or a quarantine reason, loses nothing else, and
// the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { Role } from '../../src/auth/Principal.js';
import { Image } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

const LIMITS = { maxFileBytes: 256 * 1024, maxZipExpandedBytes: 1024 * 1024, maxZipEntries: 50 };

describe('bad input', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp({ config: { ingest: LIMITS } as any });
    token = await submitter(app);
  });
  after(async () => app?.stop());

  const good = (patientId = 'BAD-1') => makeCt({ patientId, studyUid: uid(), seriesUid: uid(), sopUid: uid() });

  it('quarantines empty, garbage, truncated, wrong-preamble and ID-less files with reasons, and ingests the good one', async () => {
    const sub = await createSubmission(app, token);
    const ct = good();
    const wrongPreamble = Buffer.from(ct);
    wrongPreamble.write('DACM', 128, 'latin1');
    const noPatient = makeCt({ patientId: '', studyUid: uid(), seriesUid: uid(), sopUid: uid() });
    const inputs: Record<string, Buffer> = {
      'empty.dcm': Buffer.alloc(0),
      'garbage.dcm': Buffer.from('this is not DICOM at all, just some text '.repeat(40)),
      'truncated.dcm': ct.subarray(0, Math.floor(ct.length * 0.6)),
      'header-only.dcm': ct.subarray(0, 300),
      'wrong-preamble.dcm': wrongPreamble,
      'no-patient.dcm': noPatient,
      'good.dcm': ct,
    };
    for (const [name, bytes] of Object.entries(inputs)) {
      const res = await upload(app, token, sub.uploadUrl, bytes, name);
      assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.body)}`);
    }
    const result = await processToEnd(app, token, sub.id);
    const files = new Map((await fetchSubmission(app, token, sub.id)).files.map((f: any) => [f.originalName, f]));
    assert.equal(files.size, Object.keys(inputs).length);
    assert.equal((files.get('good.dcm') as any).state, 'INDEXED');
    assert.equal((files.get('empty.dcm') as any).quarantineReason, 'EMPTY');
    assert.equal((files.get('no-patient.dcm') as any).quarantineReason, 'MISSING_PATIENT_ID');
    for (const name of ['garbage.dcm', 'truncated.dcm', 'header-only.dcm', 'wrong-preamble.dcm']) {
      const f = files.get(name) as any;
      assert.equal(f.state, 'QUARANTINED', `${name} should be quarantined, is ${f.state}`);
      assert.ok(f.quarantineReason && f.quarantineMessage.length > 5, `${name}: ${f.quarantineReason} ${f.quarantineMessage}`);
    }
    assert.equal(result.ingested + result.quarantined, Object.keys(inputs).length);
  });

  it('refuses an oversized file and a zip bomb with 413 and a form post with 415, keeping what was received before', async () => {
    const sub = await createSubmission(app, token);
    assert.equal((await upload(app, token, sub.uploadUrl, good(), 'first.dcm')).status, 201);
    const big = await upload(app, token, sub.uploadUrl, Buffer.alloc(LIMITS.maxFileBytes + 1000, 1), 'big.dcm');
    assert.equal(big.status, 413);
    assert.match(big.body.error, /per-file limit/);
    // 8 MB of zeros deflate to a few kB: a small upload that would expand far past the bound.
    const bomb = zipSync({ 'a.dcm': new Uint8Array(200 * 1024), 'b.dcm': new Uint8Array(8 * 1024 * 1024) });
    assert.ok(bomb.length < 64 * 1024);
    const res = await upload(app, token, sub.uploadUrl, bomb, 'bomb.zip');
    assert.equal(res.status, 413, JSON.stringify(res.body));
    const tooMany = zipSync(Object.fromEntries(Array.from({ length: LIMITS.maxZipEntries + 1 }, (_, i) => [`f${i}.dcm`, new Uint8Array(10)])));
    assert.equal((await upload(app, token, sub.uploadUrl, tooMany, 'many.zip')).status, 413);
    const notZip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100, 7)]);
    assert.equal((await upload(app, token, sub.uploadUrl, notZip, 'broken.zip')).status, 400);
    // A form post (curl -F, an HTML form) is an envelope around the file, not the file: 415 with
    // how to send it, rather than the envelope staged as one file and later quarantined as junk.
    const form = new FormData();
    form.append('file', new Blob([good()]), 'form.dcm');
    form.append('file', new Blob([good()]), 'form2.dcm');
    const posted = await fetch(`${app.url}${sub.uploadUrl}`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    assert.equal(posted.status, 415);
    const refusal = await posted.json() as { code: string; error: string };
    assert.equal(refusal.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(refusal.error, /the file itself as the body/);
    const files = (await fetchSubmission(app, token, sub.id)).files;
    assert.deepEqual(files.map((f: any) => f.originalName), ['first.dcm'], 'refused uploads leave nothing behind, the earlier file stays');
  });

  it('accepts a zip of DICOM files', async () => {
    const sub = await createSubmission(app, token);
    const zip = zipSync({ 'study/1.dcm': good('Z-1'), 'study/2.dcm': good('Z-1'), '__MACOSX/._1.dcm': new Uint8Array(4) });
    const res = await upload(app, token, sub.uploadUrl, zip, 'study.zip', 'POST');
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.files.map((f: any) => f.name).sort(), ['study.zip/study/1.dcm', 'study.zip/study/2.dcm']);
    const rows = (await fetchSubmission(app, token, sub.id)).files;
    assert.deepEqual(res.body.files.map((f: any) => f.id).sort(), rows.map((f: any) => f.id).sort(), 'the response names each file by its row');
    assert.deepEqual(res.body.files.map((f: any) => f.state), ['RECEIVED', 'RECEIVED']);
    assert.equal((await processToEnd(app, token, sub.id)).ingested, 2);
  });

  it('archives text values that hold NUL characters as they are, sets aside a file whose values the catalogue cannot hold, and the run ends', async () => {
    // A NUL is not DICOM text, but a file may carry one inside a value; the embedded database's
    // statements once ended at it, so one such file stopped every run of its submission.
    const sub = await createSubmission(app, token);
    const odd = makeCt({
      patientId: 'NUL\u0000PATIENT', studyUid: uid(), seriesUid: uid(), sopUid: uid(),
      extra: { '00081030': { vr: 'LO', Value: ['Head\u0000CT'] }, '0008103E': { vr: 'LO', Value: ["Axial'\u0000\u0000--"] }, '00180015': { vr: 'CS', Value: ['CH\u0000EST'] } },
    });
    assert.equal((await upload(app, token, sub.uploadUrl, odd, 'nul.dcm')).status, 201);
    const long = makeCt({
      patientId: 'L'.repeat(300), studyUid: uid(), seriesUid: uid(), sopUid: uid(),
      extra: { '00080016': { vr: 'UI', Value: [`1.2.840.10008.5.1.4.1.1.2.${'1'.repeat(120)}`] }, '00080060': { vr: 'CS', Value: ['M'.repeat(80)] }, '00101010': { vr: 'AS', Value: ['9'.repeat(90)] }, '00100040': { vr: 'CS', Value: ['F'.repeat(70)] } },
    });
    assert.equal((await upload(app, token, sub.uploadUrl, long, 'long.dcm')).status, 201);
    assert.equal((await upload(app, token, sub.uploadUrl, good('NUL-NEIGHBOUR'), 'neighbour.dcm')).status, 201);
    const result = await processToEnd(app, token, sub.id);
    assert.deepEqual({ ingested: result.ingested, quarantined: result.quarantined, pending: result.pending }, { ingested: 2, quarantined: 1, pending: 0 });
    // De-identification gave the study new UIDs: found through the file's image.
    const files = new Map((await fetchSubmission(app, token, sub.id)).files.map((f: any) => [f.originalName, f]));
    const image = await app.orm.em.fork().findOneOrFail(Image, { uid: (files.get('nul.dcm') as any).imageUid }, { populate: ['series.study'] });
    // (Descriptions are removed by the Basic profile; the body part is kept, as the catalogue's site.)
    assert.equal(image.series.getEntity().anatomicalSite, 'CH\u0000EST');
    // Values longer than the catalogue keeps: the file is set aside, alike on both databases (MariaDB once failed the run).
    assert.equal((files.get('long.dcm') as any).state, 'QUARANTINED');
    assert.equal((files.get('long.dcm') as any).quarantineReason, 'INVALID_UID');
  });

  it('refuses a damaged zip whose entry does not match its CRC-32, keeping none of it (yauzl does not check it)', async () => {
    const sub = await createSubmission(app, token);
    const zip = Buffer.from(zipSync({ 'study/1.dcm': good('CRC-1'), 'study/2.dcm': good('CRC-1') }, { level: 0 }));
    // One flipped byte in the second entry's stored bytes: the zip is well formed, the entry is not what was zipped.
    zip[zip.indexOf(Buffer.from('study/2.dcm')) + 'study/2.dcm'.length + 200] ^= 0xff;
    const res = await upload(app, token, sub.uploadUrl, zip, 'damaged.zip', 'POST');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, /zip entry 2: .*CRC-32/);
    assert.deepEqual((await fetchSubmission(app, token, sub.id)).files, [], 'all or nothing: the sound entry is not kept either');
    const sound = await upload(app, token, sub.uploadUrl, zipSync({ 'study/1.dcm': good('CRC-2') }, { level: 0 }), 'sound.zip', 'POST');
    assert.equal(sound.status, 201);
  });

  it('refuses clinical data for a patient no file has, naming the record, not the ID', async () => {
    const sub = await createSubmission(app, token);
    await upload(app, token, sub.uploadUrl, good('KNOWN-1'));
    await processToEnd(app, token, sub.id);
    const res = await app.gql(`mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`,
      { s: sub.id, r: [{ localPatientId: 'KNOWN-1', sex: 'MALE' }, { localPatientId: 'STRANGER-9', sex: 'FEMALE' }] }, token);
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0].message, /record 2/);
    assert.doesNotMatch(res.errors![0].message, /STRANGER/);
    const csv = await app.gql(`mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`, { s: sub.id, c: 'patient_id,sex,age\nKNOWN-1,X,40\n' }, token);
    assert.equal(csv.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(csv.errors![0].message, /row 2/);
    // Longer than the catalogue's field: refused alike on both databases (MariaDB answered INTERNAL_SERVER_ERROR, SQLite stored it).
    const long = await app.gql(`mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`,
      { s: sub.id, r: [{ localPatientId: 'KNOWN-1', sex: 'MALE', pathologicalType: 'p'.repeat(201) }] }, token);
    assert.equal(long.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(long.errors));
    assert.match(long.errors![0].message, /^record 1: pathologicalType is longer than the archive keeps \(200 characters\)/);
    const history = 'a long history; '.repeat(4_200);
    const longCsv = await app.gql(`mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`, { s: sub.id, c: `patient_id,sex,medical_history\nKNOWN-1,MALE,${history}\n` }, token);
    assert.equal(longCsv.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(longCsv.errors));
    assert.match(longCsv.errors![0].message, /^record 1: medicalHistory is longer than the archive keeps \(65535 bytes\)/);
    const fits = await app.gql(`mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`,
      { s: sub.id, r: [{ localPatientId: 'KNOWN-1', sex: 'MALE', pathologicalType: 'p'.repeat(200), medicalHistory: history.slice(0, 4_000) }] }, token);
    assert.equal(fits.errors, undefined, JSON.stringify(fits.errors));
  });

  it('checks who may create, upload and process', async () => {
    const input = { title: 't', disease: 'd' };
    const q = `mutation($input: CreateSubmissionInput!) { createSubmission(input: $input) { id } }`;
    assert.equal((await app.gql(q, { input }, null)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.equal((await app.gql(q, { input }, await app.token('r', Role.RESEARCHER))).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const bad = await app.gql(q, { input: { ...input, bioProjectAccession: 'PRJXX123' } }, token);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    for (const ok of ['PRJCA000123', 'PRJNA12345', 'PRJEB1', 'PRJDB42']) {
      assert.equal((await app.gql(q, { input: { ...input, bioProjectAccession: ok } }, token)).errors, undefined, ok);
    }
    const sub = await createSubmission(app, token);
    assert.equal((await upload(app, null, sub.uploadUrl, good())).status, 401);
    assert.equal((await upload(app, 'not-a-token', sub.uploadUrl, good())).status, 401);
    const other = await app.token('someone-else', Role.SUBMITTER);
    assert.equal((await upload(app, other, sub.uploadUrl, good())).status, 403);
    const p = await app.gql(`mutation($id: ID!) { processSubmission(submission: $id) { state } }`, { id: sub.id }, other);
    assert.equal(p.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await app.gql(`query($id: ID!) { submission(id: $id) { id } }`, { id: sub.id }, other)).data.submission, null);
    const curator = await app.token('cur', Role.CURATOR);
    assert.equal((await app.gql(`query($id: ID!) { submission(id: $id) { id } }`, { id: sub.id }, curator)).data.submission.id, sub.id);
    assert.equal((await fetch(`${app.url}/health`)).status, 200);
  });
});
