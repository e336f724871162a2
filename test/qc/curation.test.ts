import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import { Collection, Series } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { subscribeLive } from '../support/live.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';

const RELEASE = `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason count message } collection { accession releaseState releasedAt } } }`;
const REVIEW = `mutation($uid: String!, $v: QcVerdict!, $note: String) { reviewSeries(uid: $uid, verdict: $v, note: $note) { verdict note reviewer reviewedAt } }`;
const FILES = `query($id: ID!) { submission(id: $id) { files(first: 500) { edges { node { id state quarantineReason heldForPixelReview repairRequest resolution } } } } }`;
const HISTORY = `query($id: ID!) { submission(id: $id) { qcHistory { kind subject actor reason message at } } }`;

describe('curation: quarantine, repair, review and release over the API', () => {
  let app: TestApp;
  let submitter: string, curator: string, researcher: string;
  let submissionId: string;
  let accession: string;
  let seriesUids: string[];
  const gql = async (query: string, variables: Record<string, unknown>, token: string | null) => {
    const res = await app.gql(query, variables, token);
    return res;
  };
  const ok = async (query: string, variables: Record<string, unknown>, token: string | null) => {
    const res = await gql(query, variables, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data;
  };

  before(async () => {
    app = await startTestApp();
    submitter = await app.token('qc-submitter', Role.SUBMITTER);
    curator = await app.token('qc-curator', Role.CURATOR);
    researcher = await app.token('qc-researcher', Role.RESEARCHER);
    const sub = await createSubmission(app, submitter, { title: 'QC workflow' });
    submissionId = sub.id;
    const study = uid(), seriesA = uid(), seriesB = uid(), firstSop = uid();
    const privateNumeric = { '00190010': { vr: 'LO', Value: ['ACME 1.0'] }, '00191010': { vr: 'DS', Value: ['12.5'] } };
    // Distinct pixels per image, as real slices have; identical pixels under another UID would be set aside as twins.
    const pixels = (seed: number) => ({ '7FE00010': { vr: 'OW', Value: [new Int16Array(64 * 64).map((_, i) => ((i * 7 + seed * 131) % 2000) - 1000).buffer] } });
    const files: [string, Buffer][] = [
      ['a1.dcm', makeCt({ patientId: 'PAT-1', patientName: 'Doe^Jane', studyUid: study, seriesUid: seriesA, sopUid: firstSop, instanceNumber: 1, extra: { ...privateNumeric, ...pixels(1) } })],
      ['a2.dcm', makeCt({ patientId: 'PAT-1', patientName: 'Doe^Jane', studyUid: study, seriesUid: seriesA, sopUid: uid(), instanceNumber: 2, extra: { ...privateNumeric, ...pixels(2) } })],
      // Resent: which of the two copies is kept depends on processing order, so they are alike.
      ['a1-again.dcm', makeCt({ patientId: 'PAT-1', patientName: 'Doe^Jane', studyUid: study, seriesUid: seriesA, sopUid: firstSop, instanceNumber: 1, extra: { ...privateNumeric, ...pixels(1) } })],
      ['no-patient.dcm', makeCt({ patientId: '', studyUid: study, seriesUid: seriesA, sopUid: uid(), instanceNumber: 3, extra: pixels(3) })],
      ['burned-in.dcm', makeCt({ patientId: 'PAT-1', patientName: 'Doe^Jane', studyUid: study, seriesUid: seriesB, sopUid: uid(), extra: { '00280301': { vr: 'CS', Value: ['YES'] }, ...pixels(4) } })],
    ];
    for (const [name, bytes] of files) assert.equal((await upload(app, submitter, sub.uploadUrl, bytes, name)).status, 201, name);
    await processToEnd(app, submitter, submissionId);
    const em = app.orm.em.fork() as EntityManager;
    const collection = await em.findOneOrFail(Collection, { submitter: 'qc-submitter' });
    accession = collection.accession;
    seriesUids = (await em.find(Series, { collection: collection.id }, { orderBy: { id: 'asc' } })).map((s) => s.uid);
    assert.equal(seriesUids.length, 2);
  });

  after(async () => {
    await app?.stop();
  });

  it('the pipeline\'s outcomes are visible per file and recorded in the history', async () => {
    const files = (await ok(FILES, { id: submissionId }, submitter)).submission.files.edges.map((e: any) => e.node);
    assert.deepEqual(files.map((f: any) => f.state).sort(), ['DUPLICATE', 'INDEXED', 'INDEXED', 'INDEXED', 'QUARANTINED']);
    assert.equal(files.find((f: any) => f.state === 'QUARANTINED').quarantineReason, 'MISSING_PATIENT_ID');
    assert.equal(files.filter((f: any) => f.heldForPixelReview).length, 1);
    const history = (await ok(HISTORY, { id: submissionId }, submitter)).submission.qcHistory;
    assert.deepEqual(history.map((e: any) => [e.kind, e.actor]).sort(), [['DUPLICATE', 'pipeline'], ['QUARANTINED', 'pipeline']]);
    assert.equal(history.find((e: any) => e.kind === 'QUARANTINED').reason, 'MISSING_PATIENT_ID');
  });

  it('curator mutations are refused to anonymous callers, submitters and researchers', async () => {
    for (const [token, code] of [[null, 'UNAUTHENTICATED'], [submitter, 'FORBIDDEN'], [researcher, 'FORBIDDEN']] as const) {
      const review = await gql(REVIEW, { uid: seriesUids[0], v: 'PASS' }, token);
      assert.equal(review.errors?.[0]?.extensions?.code, code);
      const release = await gql(RELEASE, { a: accession }, token);
      assert.equal(release.errors?.[0]?.extensions?.code, code);
    }
    const repair = await gql(`mutation { requestRepair(file: 1, message: "x") { id } }`, {}, submitter);
    assert.equal(repair.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    // Nothing happened: both series are still unreviewed.
    const em = app.orm.em.fork() as EntityManager;
    assert.equal(await em.getKnex()('series_review').count({ n: '*' }).first().then((r: any) => Number(r.n)), 0);
  });

  it('release is refused with every reason while series are unreviewed, an image is held and a quarantine is open', async () => {
    const out = (await ok(RELEASE, { a: accession }, curator)).releaseCollection;
    assert.equal(out.released, false);
    assert.equal(out.collection.releaseState, ReleaseState.DRAFT);
    assert.deepEqual(out.blockers.map((b: any) => [b.reason, b.count]), [['UNRESOLVED_QUARANTINE', 1], ['UNREVIEWED_SERIES', 2], ['HELD_FOR_PIXEL_REVIEW', 1]]);
    assert.match(out.blockers[1].message, /2 of 2 series/);
  });

  it('repair: the curator asks, the submitter supplies the patient ID, the file goes through the pipeline again', async () => {
    const files = (await ok(FILES, { id: submissionId }, submitter)).submission.files.edges.map((e: any) => e.node);
    const quarantined = files.find((f: any) => f.state === 'QUARANTINED');
    await ok(`mutation($f: ID!) { requestRepair(file: $f, message: "Which patient is this? Add the PatientID.") { id } }`, { f: quarantined.id }, curator);
    const asked = (await ok(FILES, { id: submissionId }, submitter)).submission.files.edges.map((e: any) => e.node).find((f: any) => f.id === quarantined.id);
    assert.equal(asked.repairRequest, 'Which patient is this? Add the PatientID.');

    const RESOLVE = `mutation($f: ID!, $a: QuarantineAction!, $r: RepairInput) { resolveQuarantined(file: $f, action: $a, repair: $r) { id state quarantineReason } }`;
    const missing = await gql(RESOLVE, { f: quarantined.id, a: 'REPROCESS' }, submitter);
    assert.equal(missing.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const stranger = await gql(RESOLVE, { f: quarantined.id, a: 'DISCARD' }, await app.token('someone-else', Role.SUBMITTER));
    assert.equal(stranger.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    // The mutation starts the run and answers at once: the file has left QUARANTINED; the run is followed to its end.
    const fixed = (await ok(RESOLVE, { f: quarantined.id, a: 'REPROCESS', r: { patientId: 'PAT-1' } }, submitter)).resolveQuarantined;
    assert.notEqual(fixed.state, 'QUARANTINED');
    assert.equal(fixed.quarantineReason, null);
    await processToEnd(app, submitter, submissionId);
    const after = (await ok(FILES, { id: submissionId }, submitter)).submission.files.edges.map((e: any) => e.node).find((f: any) => f.id === quarantined.id);
    assert.equal(after.resolution, 'REPROCESS');
    assert.equal(after.state, 'INDEXED');
  });

  it('announces reviews over graphql-ws to the submitter, and FAIL blocks release until the series passes', async () => {
    // Resolves once the hub listens for this subscriber: no time allowed for it to register.
    const live = await subscribeLive(app, submitter, `subscription($s: ID!) { qcEvents(submission: $s) { submissionId kind subject message } }`, { s: submissionId });
    const { events } = live;
    try {
      const failNote = await gql(REVIEW, { uid: seriesUids[1], v: 'FAIL' }, curator);
      assert.equal(failNote.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', 'FAIL needs a note');
      const failed = (await ok(REVIEW, { uid: seriesUids[1], v: 'FAIL', note: 'text burned into the corner' }, curator)).reviewSeries;
      assert.deepEqual([failed.verdict, failed.reviewer], ['FAIL', 'qc-curator']);
      await live.next((e) => e.data?.qcEvents?.kind === 'SERIES_FAILED', 'SERIES_FAILED event');
      assert.ok(!events.some((e) => e.error), JSON.stringify(events));
      assert.deepEqual(events.find((e) => e.data?.qcEvents?.kind === 'SERIES_FAILED')?.data?.qcEvents, { submissionId, kind: 'SERIES_FAILED', subject: `series:${seriesUids[1]}`, message: 'text burned into the corner' });

      await ok(REVIEW, { uid: seriesUids[0], v: 'PASS', note: 'looks right' }, curator);
      const refused = (await ok(RELEASE, { a: accession }, curator)).releaseCollection;
      assert.deepEqual(refused.blockers.map((b: any) => b.reason), ['FAILED_SERIES', 'HELD_FOR_PIXEL_REVIEW']);
      await live.next((e) => e.data?.qcEvents?.kind === 'RELEASE_REFUSED', 'RELEASE_REFUSED event');
    } finally {
      await live.dispose();
    }
  });

  it('release is allowed once every series passed; the collection is RELEASED with a date', async () => {
    const state = `query($s: String!) { series(uid: $s) { review { verdict } reviewState study { reviewState } } }`;
    await ok(REVIEW, { uid: seriesUids[1], v: 'PASS', note: 'region checked, no text' }, curator);
    const seen = (await ok(state, { s: seriesUids[1] }, curator)).series;
    assert.deepEqual([seen.review.verdict, seen.reviewState, seen.study.reviewState], ['PASS', 'PASSED', 'PASSED']);
    const out = (await ok(RELEASE, { a: accession }, curator)).releaseCollection;
    assert.deepEqual([out.released, out.blockers, out.collection.releaseState], [true, [], 'RELEASED']);
    assert.ok(Date.parse(out.collection.releasedAt) > Date.now() - 60_000);
    const again = await gql(REVIEW, { uid: seriesUids[0], v: 'FAIL', note: 'late' }, curator);
    assert.equal(again.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('a page of series with review states costs the same statements for one series as for two (no query per row)', async () => {
    const page = `query($a: String!, $n: Int!) { seriesList(filter: { collection: [$a] }, first: $n) { edges { node { uid review { verdict } reviewState study { reviewState } } } } }`;
    let one: any, two: any;
    const single = await app.countQueries(async () => { one = await ok(page, { a: accession, n: 1 }, curator); });
    const both = await app.countQueries(async () => { two = await ok(page, { a: accession, n: 2 }, curator); });
    assert.equal(one.seriesList.edges.length, 1);
    assert.deepEqual(two.seriesList.edges.map((e: any) => e.node.reviewState), ['PASSED', 'PASSED']);
    assert.equal(both, single, `statements: ${single} for one series, ${both} for two`);
  });

  it('the history says who decided what, when and why, in order', async () => {
    const history = (await ok(HISTORY, { id: submissionId }, submitter)).submission.qcHistory;
    // The pipeline's two outcomes come first, in the order the pipeline reached them; then the curation steps in order.
    assert.deepEqual(history.slice(0, 2).map((e: any) => e.kind).sort(), ['DUPLICATE', 'QUARANTINED']);
    assert.deepEqual(history.slice(2).map((e: any) => e.kind), [
      'RELEASE_REFUSED', 'REPAIR_REQUESTED', 'REPROCESSED', 'SERIES_FAILED', 'SERIES_PASSED', 'RELEASE_REFUSED', 'SERIES_PASSED', 'RELEASED',
    ]);
    const reprocessed = history.find((e: any) => e.kind === 'REPROCESSED');
    assert.equal(reprocessed.actor, 'qc-submitter');
    assert.equal(reprocessed.message, 'reprocessed with PatientID repaired');
    assert.ok(!JSON.stringify(history).includes('PAT-1'), 'the repaired value (PHI) is not in the history');
    const released = history.at(-1);
    assert.deepEqual([released.actor, released.subject], ['qc-curator', `collection:${accession}`]);
    for (let i = 1; i < history.length; i++) assert.ok(Date.parse(history[i].at) >= Date.parse(history[i - 1].at));
  });

  it('the tag census lists a kept private tag and retained tags, filters, and carries no removed PHI', async () => {
    const CENSUS = `query($id: ID!, $t: Boolean, $r: Boolean) { submission(id: $id) { tagCensus(textOnly: $t, retainedOnly: $r) { tag keyword vr privateCreator files distinctValues sampleValues retained textValued } } }`;
    const all = (await ok(CENSUS, { id: submissionId }, curator)).submission.tagCensus;
    const byTag = (t: string) => all.find((e: any) => e.tag === t);
    assert.deepEqual([byTag('(0019,xx10)')?.privateCreator, byTag('(0019,xx10)')?.files, byTag('(0019,xx10)')?.sampleValues], ['ACME 1.0', 2, ['12.5']]);
    assert.equal(byTag('(0010,0040)').retained, true);
    assert.equal(byTag('(0008,0018)').files, 4);
    assert.equal(byTag('(0008,0018)').distinctValues, 4);
    assert.ok(!JSON.stringify(all).includes('Doe'), 'PatientName was replaced before the census saw it');
    const retained = (await ok(CENSUS, { id: submissionId, r: true }, curator)).submission.tagCensus;
    assert.ok(retained.every((e: any) => e.retained) && retained.length < all.length);
    const text = (await ok(CENSUS, { id: submissionId, t: true }, curator)).submission.tagCensus;
    assert.ok(text.every((e: any) => e.textValued) && !text.some((e: any) => e.tag === '(0028,0010)'));
    // Persisted: a second query reads no stored file, only the census row.
    const em = app.orm.em.fork() as EntityManager;
    const row = await em.getKnex()('submission_census').where('submission_id', submissionId).first();
    assert.equal(JSON.parse(typeof row.counted_files === 'string' ? row.counted_files : JSON.stringify(row.counted_files)).length, 4);
    // Someone else's submission is not theirs to read.
    const other = await app.gql(CENSUS, { id: submissionId }, researcher);
    assert.equal(other.data?.submission ?? null, null);
  });
});
