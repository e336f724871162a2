// A run started while files are still arriving (processSubmission after the first upload, uploads
// going on) takes them in rounds (IngestPipeline.run): it waits for the uploads in flight, every
// file is screened before it is processed, and the cross-file checks of a later round see the
// files of the earlier ones (src/qc/screen.ts ScreenHistory).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Role, type Principal } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, submitter, uid, upload } from './helpers.js';

const curator: Principal = { id: 'curator-rounds', name: null, email: null, institution: null, roles: [Role.CURATOR] };

/** The same image under another SOP Instance UID of the same length: identical pixels, a different instance. */
function renamed(bytes: Buffer, sopUid: string): { bytes: Buffer; sopUid: string } {
  const other = sopUid.slice(0, -1) + (sopUid.endsWith('7') ? '8' : '7');
  const text = bytes.toString('latin1');
  assert.ok(text.includes(sopUid));
  return { bytes: Buffer.from(text.split(sopUid).join(other), 'latin1'), sopUid: other };
}

describe('a run while uploads go on', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
  });
  after(async () => app?.stop());

  it('waits for the uploads in flight and screens each round against the earlier ones', async () => {
    const ingest = app.door.ingest!;
    const sub = await createSubmission(app, token);
    const id = Number(sub.id);
    const [study, series, sop] = [uid(), uid(), uid()];
    const first = makeCt({ patientId: 'ROUNDS-1', studyUid: study, seriesUid: series, sopUid: sop });
    assert.equal((await upload(app, token, sub.uploadUrl, first, 'first.dcm')).status, 201);

    // Two uploads begin before the run and are held open until its first round is over.
    const twin = new PassThrough();
    const odd = new PassThrough();
    const held = [ingest.submissions.receive(curator, id, twin, 'twin.dcm'), ingest.submissions.receive(curator, id, odd, 'odd.dcm')];
    const state = async () => (await (app.orm.em.fork() as any).getKnex()('submission_file').where({ submission_id: id }).orderBy('id').select('state', 'quarantine_reason'))
      .map((r: { state: string; quarantine_reason: string | null }) => [r.state, r.quarantine_reason]);
    const firstIndexed = new Promise<void>((resolve) => {
      const look = async () => {
        const rows = await state();
        if (rows[0]?.[0] === 'INDEXED') { ingest.pipeline.events.off('progress', look); resolve(); }
      };
      ingest.pipeline.events.on('progress', look);
    });
    const run = ingest.pipeline.process(id);
    await firstIndexed;
    assert.deepEqual(await state(), [['INDEXED', null]], 'the held uploads have no rows yet');
    assert.equal((await (app.orm.em.fork() as any).getKnex()('submission').where({ id }).first('state')).state, 'PROCESSING', 'the run waits for the uploads in flight');

    // The twin has the first file's pixels under another UID (a duplicate only screening finds: the
    // archive knows instances by UID); the odd one joins the first file's series at another size.
    twin.end(renamed(first, sop).bytes);
    odd.end(makeCt({ patientId: 'ROUNDS-1', studyUid: study, seriesUid: series, sopUid: uid(), size: 32 }));
    await Promise.all(held);
    const summary = await run;
    assert.deepEqual([summary.ingested, summary.duplicates, summary.quarantined, summary.pending], [1, 1, 1, 0]);
    // The two held uploads end in either order, so their rows' order is not fixed.
    const [firstRow, ...rest] = await state();
    assert.deepEqual(firstRow, ['INDEXED', null]);
    assert.deepEqual(rest.map(String).sort(), ['DUPLICATE,DUPLICATE_PIXELS', 'QUARANTINED,INCONSISTENT_GEOMETRY']);
    assert.equal((await (app.orm.em.fork() as any).getKnex()('submission').where({ id }).first('state')).state, 'PROCESSED');
  });

  it('ends when nothing is waiting and nothing is being received', async () => {
    const ingest = app.door.ingest!;
    const sub = await createSubmission(app, token);
    assert.equal((await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'ROUNDS-2', studyUid: uid(), seriesUid: uid(), sopUid: uid() }))).status, 201);
    const summary = await ingest.pipeline.process(Number(sub.id));
    assert.deepEqual([summary.ingested, summary.pending], [1, 0]);
  });

  it('reopens a processed submission when another file arrives, and the next run takes it', async () => {
    const ingest = app.door.ingest!;
    const sub = await createSubmission(app, token);
    const id = Number(sub.id);
    const submissionState = async () => (await (app.orm.em.fork() as any).getKnex()('submission').where({ id }).first('state')).state;
    const [study, series] = [uid(), uid()];
    assert.equal((await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'ROUNDS-3', studyUid: study, seriesUid: series, sopUid: uid() }))).status, 201);
    assert.deepEqual([(await ingest.pipeline.process(id)).ingested, await submissionState()], [1, 'PROCESSED']);

    assert.equal((await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'ROUNDS-3', studyUid: study, seriesUid: series, sopUid: uid() }), 'late.dcm')).status, 201);
    assert.equal(await submissionState(), 'OPEN', 'a received file is waiting: the submission is not PROCESSED');
    const again = await ingest.pipeline.process(id);
    // The summary counts the submission's files: both are indexed now.
    assert.deepEqual([again.ingested, again.pending, await submissionState()], [2, 0, 'PROCESSED']);
  });
});
