import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, uid } from '../ingest/helpers.js';
import { encodeRaw, tinyElements } from '../support/dicom.js';
import { processToEnd } from '../support/kit.js';
import { dicomwebClient, statusOf } from './client.js';

function multipart(parts: { type: string; bytes: Buffer }[], boundary = 'stow-test-boundary'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.type}\r\n\r\n`), p.bytes, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

describe('STOW-RS stores into a submission, never straight into the archive', () => {
  let app: TestApp;
  let submitter: string;
  let submission: { id: string };
  const fileCount = async () => (await (app.orm.em.fork() as EntityManager).getKnex()('submission_file').where('submission_id', submission.id).count('* as n'))[0].n;

  before(async () => {
    app = await startTestApp();
    submitter = await app.token('stow-submitter', Role.SUBMITTER);
    submission = await createSubmission(app, submitter, { title: 'STOW-RS' });
  });
  after(async () => { await app?.stop(); });

  it('dicomweb-client stores instances; they are de-identified and screened when the submission is processed', async () => {
    const study = uid(), series = uid();
    const sops = [uid(), uid()];
    const client = dicomwebClient(`${app.url}/dicom-web/submissions/${submission.id}`, submitter);
    await client.storeInstances({ datasets: sops.map((sop, i) => makeCt({ patientId: 'STOW-PATIENT', patientName: 'Stow^Patient', studyUid: study, seriesUid: series, sopUid: sop, instanceNumber: i + 1, size: 16 })) });
    assert.equal(Number(await fileCount()), 2);
    const summary = await processToEnd(app, submitter, submission.id);
    assert.equal(summary.ingested, 2);
    const s = await fetchSubmission(app, submitter, submission.id);
    assert.equal(s.collection.releaseState, 'DRAFT', 'nothing is released by storing');
    assert.ok(s.files.every((f: any) => f.imageUid && !sops.includes(f.imageUid)), 'stored under de-identified UIDs');
    const anonymous = await fetch(`${app.url}/dicom-web/studies?PatientName=Stow*`);
    assert.deepEqual(await anonymous.json(), [], 'an unreleased submission is not answered to others');
  });

  it('answers each part’s outcome: stored parts referenced, others failed with a reason (202), none stored is 409', async () => {
    const before = Number(await fileCount());
    const good = makeCt({ patientId: 'STOW-PATIENT', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 16 });
    const { body, contentType } = multipart([{ type: 'application/dicom', bytes: good }, { type: 'application/dicom', bytes: Buffer.from('not a DICOM file at all') }]);
    const res = await fetch(`${app.url}/dicom-web/submissions/${submission.id}/studies`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${submitter}` } });
    assert.equal(res.status, 202);
    const out: any = await res.json();
    assert.equal(out['00081199'].Value.length, 1);
    assert.equal(out['00081198'].Value.length, 1);
    assert.equal(out['00081198'].Value[0]['00081197'].Value[0], 0xc000);
    assert.equal(Number(await fileCount()), before + 2, 'the malformed part is staged too, for screening to quarantine');

    const wrongStudy = multipart([{ type: 'application/dicom', bytes: good }]);
    const mismatch = await fetch(`${app.url}/dicom-web/submissions/${submission.id}/studies/1.2.3.4`, { method: 'POST', body: wrongStudy.body, headers: { 'content-type': wrongStudy.contentType, authorization: `Bearer ${submitter}` } });
    assert.equal(mismatch.status, 409);
    assert.equal(((await mismatch.json()) as any)['00081198'].Value[0]['00081197'].Value[0], 0xa900);
    assert.equal(Number(await fileCount()), before + 2, 'nothing more stored');
  });

  it('a part the DICOM front door refuses (cut short; an element whose length runs past the end) fails with 0xC000 and is staged for quarantine, not stored as an instance', async () => {
    const before = Number(await fileCount());
    const good = makeCt({ patientId: 'STOW-PATIENT', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 16 });
    // dcmjs alone reads both of these without complaint (it zero-fills what is missing).
    const cut = good.subarray(0, good.length - 64);
    const header = Buffer.alloc(12);
    header.writeUInt16LE(0x7fe1, 0); header.writeUInt16LE(0x1010, 2); header.write('OB', 4, 'latin1'); header.writeUInt32LE(0x7ffffff0, 8);
    const lying = Buffer.concat([good, header, Buffer.alloc(16)]);
    const { body, contentType } = multipart([{ type: 'application/dicom', bytes: cut }, { type: 'application/dicom', bytes: lying }]);
    const res = await fetch(`${app.url}/dicom-web/submissions/${submission.id}/studies`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${submitter}` } });
    assert.equal(res.status, 409, 'no part stored');
    const out: any = await res.json();
    assert.deepEqual(out['00081198'].Value.map((f: any) => f['00081197'].Value[0]), [0xc000, 0xc000]);
    assert.equal(Number(await fileCount()), before + 2, 'both staged, for screening to quarantine (stowQuarantine.test.ts)');
  });

  it('checks the parts of a request against one element budget, the request\'s: dense parts past it fail with 0xC000, those within are stored', async () => {
    const before = Number(await fileCount());
    // Eight parts of 150,000 ten-byte private elements each (1.5 MB): each alone is under a file's
    // budget, and reading their headers through dcmjs on the event loop took about a second apiece.
    // The request may hold a million elements: six parts fit, the seventh and eighth do not.
    const elements = encodeRaw(tinyElements(150_000));
    const dense = () => {
      const ct = makeCt({ patientId: 'STOW-DENSE', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 8 });
      // Before Pixel Data, in tag order: the private groups 6001… come after the header's.
      const at = ct.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
      return Buffer.concat([ct.subarray(0, at), elements, ct.subarray(at)]);
    };
    const { body, contentType } = multipart(Array.from({ length: 8 }, () => ({ type: 'application/dicom', bytes: dense() })));
    const res = await fetch(`${app.url}/dicom-web/submissions/${submission.id}/studies`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${submitter}` } });
    assert.equal(res.status, 202);
    const out: any = await res.json();
    assert.equal(out['00081199'].Value.length, 6, 'the parts within the request\'s budget are stored');
    assert.deepEqual(out['00081198'].Value.map((f: any) => f['00081197'].Value[0]), [0xc000, 0xc000]);
    assert.equal(Number(await fileCount()), before + 6);
  });

  it('bad requests: not multipart 415, no boundary 400, the archive root 409, anonymous 401, another’s submission 403; nothing stored', async () => {
    const before = Number(await fileCount());
    const url = `${app.url}/dicom-web/submissions/${submission.id}/studies`;
    const auth = { authorization: `Bearer ${submitter}` };
    const post = (u: string, body: string | Buffer, headers: Record<string, string>) => fetch(u, { method: 'POST', body, headers });
    assert.equal((await post(url, '{}', { ...auth, 'content-type': 'application/json' })).status, 415);
    assert.equal((await post(url, 'x', { ...auth, 'content-type': 'multipart/related; type="application/dicom"' })).status, 400);
    assert.equal((await post(url, 'garbage without boundary', { ...auth, 'content-type': 'multipart/related; type="application/dicom"; boundary=abc' })).status, 400);
    const xml = multipart([{ type: 'application/dicom+xml', bytes: Buffer.from('<x/>') }]);
    assert.equal((await post(url, xml.body, { ...auth, 'content-type': xml.contentType.replace('application/dicom', 'application/dicom+xml') })).status, 415);
    const ok = multipart([{ type: 'application/dicom', bytes: makeCt({ patientId: 'P', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 16 }) }]);
    const root = await post(`${app.url}/dicom-web/studies`, ok.body, { ...auth, 'content-type': ok.contentType });
    assert.equal(root.status, 409);
    assert.match(((await root.json()) as any).error, /submissions\/\{id\}\/studies/);
    assert.equal((await post(url, ok.body, { 'content-type': ok.contentType })).status, 401);
    const other = await app.token('someone-else', Role.SUBMITTER);
    assert.equal((await post(url, ok.body, { authorization: `Bearer ${other}`, 'content-type': ok.contentType })).status, 403);
    assert.equal((await post(`${app.url}/dicom-web/submissions/999999/studies`, ok.body, { ...auth, 'content-type': ok.contentType })).status, 403);
    assert.equal(await statusOf(dicomwebClient(`${app.url}/dicom-web/submissions/${submission.id}`, other).storeInstances({ datasets: [ok.body] })), 403);
    assert.equal(Number(await fileCount()), before);
    assert.equal((await fetch(`${app.url}/dicom-web/studies`)).status, 200);
  });
});
