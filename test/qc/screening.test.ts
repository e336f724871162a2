import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { SubmissionFile } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, upload } from '../ingest/helpers.js';
import { image } from './fixtures.js';

describe('screening: QC before de-identification, on a real database and staging area', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await app.token('screen-submitter', Role.SUBMITTER);
  });
  after(async () => app?.stop());

  it('quarantines per-file and cross-file problems and duplicates; the pipeline then ingests only the rest', async () => {
    const sub = await createSubmission(app, token, { title: 'Screening' });
    const study = '1.2.826.0.1.3680043.99.50.1', series = '1.2.826.0.1.3680043.99.60.1', twinSop = '1.2.826.0.1.3680043.99.70.1';
    const inputs: [string, Uint8Array][] = [
      ['good-1.dcm', image({ study, series, seed: 1, sop: twinSop })],
      ['good-2.dcm', image({ study, series, seed: 2 })],
      ['good-3.dcm', image({ study, series, seed: 3 })],
      ['other-patient.dcm', image({ study, series, seed: 4, patientId: 'PAT-OTHER' })],
      ['odd-size.dcm', image({ study, series, seed: 5, rows: 20 })],
      ['same-uid.dcm', image({ study, series, seed: 6, sop: twinSop })],
      ['same-pixels.dcm', image({ study, series, seed: 2 })],
      ['short-pixels.dcm', image({ study, series, pixels: new Uint8Array(100) })],
      ['meta-only.dcm', Buffer.from(image({ study, series })).subarray(0, 132 + 60)],
    ];
    for (const [name, bytes] of inputs) assert.equal((await upload(app, token, sub.uploadUrl, bytes, name)).status, 201, name);

    // The pipeline's first stage alone: QC's rules over the RECEIVED files.
    const ctx = await app.createContext(null);
    const summary = await ctx.ingest!.pipeline.screen(Number(sub.id));
    assert.deepEqual(summary, { screened: 9, quarantined: 4, duplicates: 2 });

    // The names files were sent under live in the staging area, beside their bytes.
    const byName = async () => new Map(await Promise.all((await app.orm.em.fork().find(SubmissionFile, { submission: Number(sub.id) }))
      .map(async (f) => [await ctx.ingest!.staging.nameOf(f.stagingPath), f] as const)));
    let files = await byName();
    const verdict = (n: string) => `${files.get(n)!.state}:${files.get(n)!.quarantineReason ?? ''}`;
    assert.deepEqual(inputs.map(([n]) => [n, verdict(n)]), [
      // What screening read of the files that passed maps them: they go on PARSED, not read again.
      ['good-1.dcm', 'PARSED:'], ['good-2.dcm', 'PARSED:'], ['good-3.dcm', 'PARSED:'],
      ['other-patient.dcm', 'QUARANTINED:MIXED_PATIENTS'], ['odd-size.dcm', 'QUARANTINED:INCONSISTENT_GEOMETRY'],
      ['same-uid.dcm', 'DUPLICATE:DUPLICATE_UID'], ['same-pixels.dcm', 'DUPLICATE:DUPLICATE_PIXELS'],
      ['short-pixels.dcm', 'QUARANTINED:SHORT_PIXEL_DATA'], ['meta-only.dcm', 'QUARANTINED:BLANK_HEADER'],
    ]);
    assert.match(files.get('same-pixels.dcm')!.quarantineMessage!, new RegExp(`file ${files.get('good-2.dcm')!.id}\\)`));

    // Screening again looks only at the files still RECEIVED: none, so nothing new.
    assert.deepEqual(await ctx.ingest!.pipeline.screen(Number(sub.id)), { screened: 0, quarantined: 0, duplicates: 0 });

    const result = await processToEnd(app, token, sub.id);
    assert.deepEqual([result.ingested, result.quarantined, result.duplicates], [3, 4, 2]);
    files = await byName();
    assert.equal(verdict('good-3.dcm'), 'INDEXED:');
    assert.equal(verdict('other-patient.dcm'), 'QUARANTINED:MIXED_PATIENTS', 'the pipeline left the screened verdict alone');

    // The history (read through the API) records each outcome once, by the pipeline.
    const res = await app.gql(`query($id: ID!) { submission(id: $id) { qcHistory { kind reason actor } qcSummary { quarantined duplicates unresolvedQuarantined } } }`, { id: sub.id }, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const history = res.data.submission.qcHistory;
    assert.deepEqual(history.map((e: any) => e.reason).sort(), ['BLANK_HEADER', 'DUPLICATE_PIXELS', 'DUPLICATE_UID', 'INCONSISTENT_GEOMETRY', 'MIXED_PATIENTS', 'SHORT_PIXEL_DATA']);
    assert.ok(history.every((e: any) => e.actor === 'pipeline'));
    assert.deepEqual(res.data.submission.qcSummary, { quarantined: 4, duplicates: 2, unresolvedQuarantined: 4 });
  });

  it('the live pipeline keeps a pixel twin once: same pixels under another SOP Instance UID are a duplicate, not a second image', async () => {
    const sub = await createSubmission(app, token, { title: 'Screening, pixel twins' });
    const study = '1.2.826.0.1.3680043.99.51.1', series = '1.2.826.0.1.3680043.99.61.1';
    for (const [name, bytes] of [['first.dcm', image({ study, series, seed: 9 })], ['twin.dcm', image({ study, series, seed: 9 })]] as const) {
      assert.equal((await upload(app, token, sub.uploadUrl, bytes, name)).status, 201);
    }
    const result = await processToEnd(app, token, sub.id);
    assert.deepEqual([result.ingested, result.quarantined, result.duplicates], [1, 0, 1]);
    const res = await app.gql(`query($id: ID!) { submission(id: $id) { files(first: 500) { edges { node { originalName state quarantineReason } } } qcHistory { kind reason } } }`, { id: sub.id }, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.deepEqual(res.data.submission.files.edges.map((e: any) => e.node).map((f: any) => [f.state, f.quarantineReason]).sort(), [['DUPLICATE', 'DUPLICATE_PIXELS'], ['INDEXED', null]]);
    assert.deepEqual(res.data.submission.qcHistory.map((e: any) => [e.kind, e.reason]), [['DUPLICATE', 'DUPLICATE_PIXELS']]);
  });
});
