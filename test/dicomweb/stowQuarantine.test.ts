// STOW-RS quarantines malformed DICOM, never drops it: a part the structure check refuses (cut
// short, a length that runs past the end, no DICM preamble) was answered 0xC000 and nothing of it
// was kept, so no curator ever saw what the submitter sent. Now it is staged like any upload and
// screening quarantines it; the answer still lists it as failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, makeCt, uid } from '../ingest/helpers.js';

function multipart(parts: { type: string; bytes: Buffer }[], boundary = 'stow-quarantine'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.type}\r\n\r\n`), p.bytes, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

describe('STOW-RS: malformed DICOM parts are quarantined, not dropped', () => {
  let app: TestApp;
  // A submission may stage 20 KB here: two CTs of 64×64 (about 8.6 KB each), not three.
  const QUOTA = 20_000;
  before(async () => { app = await startTestApp({ config: { ingest: { ...loadConfig().ingest, submissionQuotaBytes: QUOTA } } }); });
  const post = (submission: string, token: string, parts: { type: string; bytes: Buffer }[]) => {
    const { body, contentType } = multipart(parts);
    return fetch(`${app.url}/dicom-web/submissions/${submission}/studies`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${token}` } });
  };
  const staged = async (submission: string) => Number((await app.orm.em.fork().getConnection().execute(`select count(*) as n from submission_file where submission_id = ?`, [submission]))[0].n);
  after(async () => { await app?.stop(); });

  it('stages cut-short, lying and preamble-less parts (answered 0xC000), and curators find them quarantined', async () => {
    const submitter = await app.token('stow-quarantine', Role.SUBMITTER);
    const curator = await app.token('stow-curator', Role.CURATOR);
    const sub = await createSubmission(app, submitter, { title: 'STOW quarantine' });
    const good = makeCt({ patientId: 'STOW-Q', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 16 });
    const lyingHeader = Buffer.alloc(12);
    lyingHeader.writeUInt16LE(0x7fe1, 0); lyingHeader.writeUInt16LE(0x1010, 2); lyingHeader.write('OB', 4, 'latin1'); lyingHeader.writeUInt32LE(0x7ffffff0, 8);
    const { body, contentType } = multipart([
      { type: 'application/dicom', bytes: good },
      { type: 'application/dicom', bytes: good.subarray(0, good.length - 64) },
      { type: 'application/dicom', bytes: Buffer.concat([good, lyingHeader, Buffer.alloc(16)]) },
      { type: 'application/dicom', bytes: Buffer.from('not a DICOM file at all, no preamble '.repeat(8)) },
      { type: 'image/png', bytes: Buffer.from('not even claimed to be DICOM') },
    ]);
    const res = await fetch(`${app.url}/dicom-web/submissions/${sub.id}/studies`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${submitter}` } });
    assert.equal(res.status, 202);
    const out: any = await res.json();
    assert.equal(out['00081199'].Value.length, 1, 'the sound part is stored');
    assert.deepEqual(out['00081198'].Value.map((f: any) => f['00081197'].Value[0]), [0xc000, 0xc000, 0xc000, 0xc122]);

    const outcome = await processToEnd(app, submitter, sub.id);
    assert.deepEqual({ ingested: outcome.ingested, quarantined: outcome.quarantined, pending: outcome.pending }, { ingested: 1, quarantined: 3, pending: 0 },
      'the three malformed parts were staged and quarantined; the part of another type was not staged');
    const q = await app.gql(`query($id: ID!) { submission(id: $id) { files(first: 10, state: QUARANTINED) { edges { node { originalName state quarantineReason } } } } }`, { id: sub.id }, curator);
    assert.equal(q.errors, undefined, JSON.stringify(q.errors));
    const quarantined = q.data.submission.files.edges.map((e: any) => e.node);
    assert.deepEqual(quarantined.map((f: any) => f.originalName).sort(), ['stow-rs-2.dcm', 'stow-rs-3.dcm', 'stow-rs-4.dcm']);
    assert.ok(quarantined.every((f: any) => f.state === 'QUARANTINED' && f.quarantineReason), JSON.stringify(quarantined));
  });

  it('a staging refusal (the quota spent) fails that part with 0xA700 and the request goes on, answering what was kept', async () => {
    const submitter = await app.token('stow-quota', Role.SUBMITTER);
    const sub = await createSubmission(app, submitter, { title: 'STOW quota' });
    const ct = () => makeCt({ patientId: 'STOW-QUOTA', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 64 });
    const res = await post(sub.id, submitter, [ct(), ct(), ct()].map((bytes) => ({ type: 'application/dicom', bytes })));
    assert.equal(res.status, 202, 'two parts kept, one refused: not the whole request 413');
    const out: any = await res.json();
    assert.equal(out['00081199'].Value.length, 2);
    assert.deepEqual(out['00081198'].Value.map((f: any) => f['00081197'].Value[0]), [0xa700]);
    assert.equal(await staged(sub.id), 2);
  });

  it('an empty part and a zip are refused unstaged: no file, and not one instance (staging would expand the zip)', async () => {
    const submitter = await app.token('stow-zip', Role.SUBMITTER);
    const sub = await createSubmission(app, submitter, { title: 'STOW zip' });
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)]);
    const res = await post(sub.id, submitter, [{ type: 'application/dicom', bytes: Buffer.alloc(0) }, { type: 'application/dicom', bytes: zip }]);
    assert.equal(res.status, 409);
    assert.deepEqual(((await res.json()) as any)['00081198'].Value.map((f: any) => f['00081197'].Value[0]), [0xc000, 0xc000]);
    assert.equal(await staged(sub.id), 0);
  });
});
