// Regression tests for hostile uses of the curation workflow (repair, review, release).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Collection, Series } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { subscribeLive, subscriptionOutcome } from '../support/live.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';

const RELEASE = `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason count } } }`;
const REVIEW = `mutation($uid: String!, $v: QcVerdict!, $note: String) { reviewSeries(uid: $uid, verdict: $v, note: $note) { verdict } }`;
const FILES = `query($id: ID!) { submission(id: $id) { files(first: 50) { edges { node { id originalName state quarantineReason heldForPixelReview } } } } }`;
const RESOLVE = `mutation($f: ID!, $a: QuarantineAction!, $r: RepairInput) { resolveQuarantined(file: $f, action: $a, repair: $r) { id state } }`;

describe('curation, used against itself', () => {
  let app: TestApp;
  let submitter: string, curator: string, stranger: string;
  let submissionId: string;
  let accession: string;
  let seriesUid: string;
  const files = async () => (await app.gql(FILES, { id: submissionId }, curator)).data.submission.files.edges.map((e: any) => e.node);
  const byName = async (n: string) => (await files()).find((f: any) => f.originalName === n);

  before(async () => {
    app = await startTestApp();
    submitter = await app.token('hq-submitter', Role.SUBMITTER);
    curator = await app.token('hq-curator', Role.CURATOR);
    stranger = await app.token('hq-stranger', Role.SUBMITTER);
    const sub = await createSubmission(app, submitter, { title: 'Hostile curation' });
    submissionId = sub.id;
    const study = uid(), series = uid();
    const burned = { '00280301': { vr: 'CS', Value: ['YES'] } };
    const sent: [string, Buffer][] = [
      ['a1.dcm', makeCt({ patientId: 'PAT-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: 1 })],
      ['a2.dcm', makeCt({ patientId: 'PAT-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: 2 })],
      // No PatientID, so quarantined; it carries burned-in text, so once repaired it is held for pixel review.
      ['held.dcm', makeCt({ patientId: '', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: 3, extra: burned })],
      ['nopid.dcm', makeCt({ patientId: '', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: 4 })],
      ['junk.dcm', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from('not a dataset at all')])],
    ];
    for (const [name, bytes] of sent) assert.equal((await upload(app, submitter, sub.uploadUrl, bytes, name)).status, 201, name);
    await processToEnd(app, submitter, submissionId);
    const em = app.orm.em.fork() as EntityManager;
    accession = (await em.findOneOrFail(Collection, { submitter: 'hq-submitter' })).accession;
    seriesUid = (await em.findOneOrFail(Series, { collection: { accession } })).uid;
  });

  after(async () => { await app?.stop(); });

  it('repair values the file cannot carry are BAD_USER_INPUT, and the file stays quarantined as it was', async () => {
    const nopid = await byName('nopid.dcm');
    // A 300-character PatientID was taken and the file quarantined again as PROCESSING_ERROR; a bad UID was INTERNAL_SERVER_ERROR.
    for (const r of [{ patientId: 'P'.repeat(300) }, { patientId: 'PAT\\2' }, { patientId: 'PAT\u00012' }, { patientId: 'PAT-1', studyInstanceUid: 'not-a-uid' }, { patientId: 'PAT-1', seriesInstanceUid: `1.${'2'.repeat(80)}` }]) {
      const res = await app.gql(RESOLVE, { f: nopid.id, a: 'REPROCESS', r }, submitter);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r).slice(0, 60));
      assert.equal(res.errors?.[0]?.extensions?.argument, 'repair');
      assert.ok(!JSON.stringify(res.errors).includes('PPPP'), 'the value is not echoed');
    }
    // Bytes that are no DICOM cannot be repaired in place: a typed refusal, not an internal error.
    const junk = await byName('junk.dcm');
    assert.equal(junk.state, 'QUARANTINED');
    const res = await app.gql(RESOLVE, { f: junk.id, a: 'REPROCESS', r: { patientId: 'PAT-1' } }, submitter);
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    for (const n of ['nopid.dcm', 'junk.dcm']) {
      const f = await byName(n);
      assert.deepEqual([f.state, f.quarantineReason], ['QUARANTINED', n === 'junk.dcm' ? junk.quarantineReason : 'MISSING_PATIENT_ID'], n);
    }
  });

  it('an absent file is refused as another submitter\'s is, in the same words (no id oracle)', async () => {
    const theirs = await byName('nopid.dcm');
    const absent = await app.gql(RESOLVE, { f: '987654', a: 'DISCARD' }, stranger);
    const other = await app.gql(RESOLVE, { f: theirs.id, a: 'DISCARD' }, stranger);
    assert.equal(other.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(absent.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(absent.errors[0].message.replace('987654', 'N'), other.errors[0].message.replace(theirs.id, 'N'));
    assert.equal((await byName('nopid.dcm')).state, 'QUARANTINED');
  });

  it('a repair cannot be requested of a file that is not quarantined', async () => {
    const indexed = await byName('a1.dcm');
    const res = await app.gql(`mutation($f: ID!) { requestRepair(file: $f, message: "fix it") { id } }`, { f: indexed.id }, curator);
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const em = app.orm.em.fork() as EntityManager;
    assert.equal(await em.getKnex()('file_curation').where('file_id', indexed.id).count({ n: '*' }).first().then((r: any) => Number(r.n)), 0);
  });

  it('a verdict sent with the number of images looked at is refused (CONFLICT) when the series holds another number', async () => {
    const seen = (await app.gql(`query($u: String!) { series(uid: $u) { imageCount } }`, { u: seriesUid }, curator)).data.series.imageCount;
    const REVIEW_SEEN = `mutation($uid: String!, $n: Int) { reviewSeries(uid: $uid, verdict: PASS, note: "looked", imageCount: $n) { verdict } }`;
    const stale = await app.gql(REVIEW_SEEN, { uid: seriesUid, n: seen - 1 }, curator);
    assert.equal(stale.errors?.[0]?.extensions?.code, 'CONFLICT');
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    assert.equal(Number((await knex('series_review as r').join('series as s', 's.id', 'r.series_id').where('s.uid', seriesUid).count({ n: '*' }).first())!.n), 0);
    assert.equal((await app.gql(REVIEW_SEEN, { uid: seriesUid, n: seen }, curator)).errors, undefined);
  });

  it('a PASS does not cover an image that joins the series after it: a repaired file held for pixel review blocks release', async () => {
    assert.equal((await app.gql(REVIEW, { uid: seriesUid, v: 'PASS', note: 'two slices, clean' }, curator)).errors, undefined);
    // The submitter repairs the held file: it joins the passed series, held for burned-in text.
    const held = await byName('held.dcm');
    assert.equal((await app.gql(RESOLVE, { f: held.id, a: 'REPROCESS', r: { patientId: 'PAT-1' } }, submitter)).errors, undefined);
    await processToEnd(app, submitter, submissionId);
    const now = await byName('held.dcm');
    assert.deepEqual([now.state, !!now.heldForPixelReview], ['INDEXED', true]);
    for (const n of ['nopid.dcm', 'junk.dcm']) assert.equal((await app.gql(RESOLVE, { f: (await byName(n)).id, a: 'DISCARD' }, submitter)).errors, undefined);
    // Released with the held image unseen before (the earlier PASS accepted it).
    const refused = (await app.gql(RELEASE, { a: accession }, curator)).data.releaseCollection;
    assert.equal(refused.released, false);
    assert.deepEqual(refused.blockers.map((b: any) => b.reason), ['UNREVIEWED_SERIES', 'HELD_FOR_PIXEL_REVIEW']);
    // Looked at again, with the new image, and passed: released.
    assert.equal((await app.gql(REVIEW, { uid: seriesUid, v: 'PASS', note: 'three slices, corner text checked' }, curator)).errors, undefined);
    const out = (await app.gql(RELEASE, { a: accession }, curator)).data.releaseCollection;
    assert.deepEqual([out.released, out.blockers], [true, []]);
  });

  it('qcHistory answers a page of events, not every one of a submission\'s (one per quarantined or duplicate file)', async () => {
    const em = app.orm.em.fork() as EntityManager;
    const knex = em.getKnex();
    const { collection_id: collectionId } = await knex('submission').where('id', submissionId).first('collection_id');
    const at = em.getPlatform().processDateProperty(new Date());
    // What a zip of 700 duplicates leaves behind, written directly (the pipeline would take a while).
    const rows = Array.from({ length: 700 }, (_, i) => ({ collection_id: collectionId, submission_id: Number(submissionId), kind: 'DUPLICATE', subject: `file:${100000 + i}`, actor: 'pipeline', reason: 'DUPLICATE_UID', message: 'kept once', at }));
    await knex.batchInsert('qc_event', rows, 100);
    const HISTORY = `query($id: ID!, $first: Int, $after: ID) { submission(id: $id) { qcHistory(first: $first, after: $after) { id kind } } }`;
    const total = Number((await knex('qc_event').where('submission_id', submissionId).orWhere((q: any) => q.whereNull('submission_id').where('collection_id', collectionId)).count({ n: '*' }).first())!.n);
    const first = (await app.gql(HISTORY, { id: submissionId }, curator)).data.submission.qcHistory;
    assert.equal(first.length, 500, `every one of ${total} events was sent at once`);
    const rest = (await app.gql(HISTORY, { id: submissionId, after: first.at(-1).id }, curator)).data.submission.qcHistory;
    assert.equal(first.length + rest.length, total);
    assert.ok(Number(rest[0].id) > Number(first.at(-1).id));
    const tooMany = await app.gql(HISTORY, { id: submissionId, first: 501 }, curator);
    assert.equal(tooMany.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('a series preview is not served from before a withdrawal once the series is back at the same image count', async () => {
    const preview = async () => {
      const res = await fetch(`${app.url}/previews/${seriesUid}.png`, { headers: { authorization: `Bearer ${curator}` } });
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    };
    const before = await preview();
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    const images = await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.uid', seriesUid).orderBy('im.id').select('im.uid', 'im.sha256', 'im.size', 's.id as seriesId');
    // A slice with a name burned in is withdrawn; the corrected one arrives in its place (here written
    // directly, as the catalogue would): the series has as many images as before.
    const WITHDRAW = `mutation($u: String!) { withdrawImage(uid: $u, reason: IDENTIFIABLE_INFORMATION, note: "name burned in") { reason } }`;
    assert.equal((await app.gql(WITHDRAW, { u: images[0].uid }, curator)).errors, undefined);
    // Its pixels differ from every slice's at a preview tile's scale: the slices made here differ
    // only in two pixels, which a 128-pixel tile may average away (the montage then looked the same).
    const corrected = makeCt({ patientId: 'PAT-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), instanceNumber: 9, size: 24 });
    const store = (await app.createContext(null)).ingest!.store;
    const sha256 = await store.put(corrected);
    await knex('image').insert({ uid: uid(), series_id: images[0].seriesId, sha256, size: corrected.length, frames: 1, transfer_syntax_uid: '1.2.840.10008.1.2.1', instance_number: 9 });
    await knex('series').where('id', images[0].seriesId).increment('image_count', 1);
    // The cached montage (keyed by UID and count) still showed the withdrawn slice.
    assert.notDeepEqual(await preview(), before);
  });

  it('an up-to-date tag census is answered without reading every stored file\'s row again', async () => {
    const CENSUS = `query($id: ID!) { submission(id: $id) { tagCensus { tag files } } }`;
    const first = await app.gql(CENSUS, { id: submissionId }, curator);
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    const knex = (app.orm.em as EntityManager).getKnex();
    let rows = 0;
    const listener = (response: unknown, q: { sql?: string }) => {
      if (/from [`"]?submission_file/i.test(q.sql ?? '') && Array.isArray(response)) rows += response.length;
    };
    knex.on('query-response', listener);
    try {
      const again = await app.gql(CENSUS, { id: submissionId }, curator);
      assert.deepEqual(again.data, first.data);
    } finally {
      knex.removeListener('query-response', listener);
    }
    // One aggregate row; it was a row per stored file (3 here, 200,000 for a zip at its bound).
    assert.ok(rows <= 1, `${rows} submission_file rows read`);
  });

  it('qcEvents of another\'s submission is refused when subscribing, not per event (an activity oracle)', async () => {
    for (const [token, code] of [[stranger, 'FORBIDDEN'], [null, 'UNAUTHENTICATED']] as const) {
      for (const s of [submissionId, '987654']) {
        // It was accepted (listening), then answered an error each time the submission had a QC event.
        const answer = await subscriptionOutcome(app, token, `subscription($s: ID!) { qcEvents(submission: $s) { kind } }`, { s });
        assert.equal(answer.kind, 'ended', `${code}: the subscription to ${s} was accepted`);
        assert.equal(answer.code, code);
      }
    }
    const own = await subscribeLive(app, submitter, `subscription($s: ID!) { qcEvents(submission: $s) { kind } }`, { s: submissionId });
    await own.dispose();
  });
});
