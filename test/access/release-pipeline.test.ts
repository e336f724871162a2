import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/knex';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';
import { processToEnd } from '../support/kit.js';
import { fetchBytes } from './support.js';

const REVIEW = `mutation($uid: String!, $v: QcVerdict!, $note: String) { reviewSeries(uid: $uid, verdict: $v, note: $note) { verdict } }`;
const SEEN = `query($c: String!, $s: String!, $i: String!, $sid: ID!) {
  series(uid: $s) { uid } image(uid: $i) { uid } lookup(id: $sid) { __typename }
  statistics(filter: { collection: [$c] }) { total { series images } } }`;

/**
 * Issue 22, point 3, through the real pipeline: a collection is released, then its submitter
 * sends a new series and an image held for burned-in annotation into it. Neither is visible to
 * anonymous callers (metadata, statistics, thumbnail, preview) until a curator passes its series.
 */
describe('a submission into a released collection waits for review', () => {
  let app: TestApp;
  let submitter: string, curator: string;
  let accession: string;
  let knex: ReturnType<EntityManager['getKnex']>;
  // Distinct pixels per image, so none is set aside as another's twin.
  const pixels = (seed: number) => ({ '7FE00010': { vr: 'OW', Value: [new Int16Array(64 * 64).map((_, i) => ((i * 7 + seed * 131) % 2000) - 1000).buffer] } });

  const seriesOf = async () => (await knex('series as s').join('collection as c', 'c.id', 's.collection_id').where('c.accession', accession)
    .orderBy('s.id').select('s.id', 's.uid', 's.published')) as { id: number; uid: string; published: number }[];
  const imageOf = async (seriesId: number) => (await knex('image').where('series_id', seriesId).orderBy('id').first('uid')).uid as string;

  async function anonymousSees(seriesUid: string, imageUid: string): Promise<string[]> {
    const seen: string[] = [];
    const res = await app.gql(SEEN, { c: accession, s: seriesUid, sid: seriesUid, i: imageUid });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    if (res.data.series) seen.push('series');
    if (res.data.image) seen.push('image');
    if (res.data.lookup) seen.push('lookup');
    if ((await fetchBytes(`${app.url}/thumbnails/${imageUid}.png`)).status === 200) seen.push('thumbnail');
    if ((await fetchBytes(`${app.url}/previews/${seriesUid}.png`)).status === 200) seen.push('preview');
    return seen;
  }
  const totals = async () => (await app.gql(SEEN, { c: accession, s: '1.2.3', sid: '1.2.3', i: '1.2.3' })).data.statistics.total;

  before(async () => {
    app = await startTestApp();
    knex = (app.orm.em as EntityManager).getKnex();
    submitter = await app.token('rp-submitter', Role.SUBMITTER);
    curator = await app.token('rp-curator', Role.CURATOR);
    // First submission: one series, reviewed and released.
    const first = await createSubmission(app, submitter, { title: 'Released first' });
    const study = uid();
    const a = uid();
    assert.equal((await upload(app, submitter, first.uploadUrl, makeCt({ patientId: 'PAT-1', studyUid: study, seriesUid: a, sopUid: uid(), extra: pixels(1) }), 'a.dcm')).status, 201);
    await processToEnd(app, submitter, first.id);
    accession = (await knex('submission as s').join('collection as c', 'c.id', 's.collection_id').where('s.id', first.id).first('c.accession')).accession;
    const [released] = await seriesOf();
    assert.equal((await app.gql(REVIEW, { uid: released!.uid, v: 'PASS' }, curator)).errors, undefined);
    const rel = await app.gql(`mutation($a: String!) { releaseCollection(accession: $a) { released } }`, { a: accession }, curator);
    assert.equal(rel.data.releaseCollection.released, true);

    // Later, into the released collection: a new series, and an image held for burned-in text.
    const later = await createSubmission(app, submitter, { title: 'Added after release', collection: accession });
    const files: [string, Buffer][] = [
      ['b.dcm', makeCt({ patientId: 'PAT-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), extra: pixels(2) })],
      ['burned-in.dcm', makeCt({ patientId: 'PAT-1', studyUid: study, seriesUid: uid(), sopUid: uid(), extra: { '00280301': { vr: 'CS', Value: ['YES'] }, ...pixels(3) } })],
    ];
    for (const [name, bytes] of files) assert.equal((await upload(app, submitter, later.uploadUrl, bytes, name)).status, 201, name);
    const outcome = await processToEnd(app, submitter, later.id);
    assert.equal(outcome.ingested, 2);
  });
  after(async () => { await app?.stop(); });

  it('shows anonymous callers only what was released, and the curator everything', async () => {
    const series = await seriesOf();
    assert.equal(series.length, 3);
    assert.deepEqual(series.map((s) => Number(s.published)), [1, 0, 0]);
    assert.deepEqual(await anonymousSees(series[0]!.uid, await imageOf(series[0]!.id)), ['series', 'image', 'lookup', 'thumbnail', 'preview']);
    for (const s of series.slice(1)) assert.deepEqual(await anonymousSees(s.uid, await imageOf(s.id)), [], s.uid);
    assert.deepEqual(await totals(), { series: 1, images: 1 });
    const asCurator = await app.gql(SEEN, { c: accession, s: series[2]!.uid, sid: series[2]!.uid, i: await imageOf(series[2]!.id) }, curator);
    assert.equal(asCurator.data.image?.uid, await imageOf(series[2]!.id));
    assert.deepEqual(asCurator.data.statistics.total, { series: 3, images: 3 });
  });

  it('shows each series once a curator passes it; the held image only when its own series passes', async () => {
    const [, plain, held] = await seriesOf();
    assert.equal((await app.gql(REVIEW, { uid: plain!.uid, v: 'PASS' }, curator)).errors, undefined);
    assert.deepEqual(await anonymousSees(plain!.uid, await imageOf(plain!.id)), ['series', 'image', 'lookup', 'thumbnail', 'preview']);
    assert.deepEqual(await anonymousSees(held!.uid, await imageOf(held!.id)), []);
    assert.deepEqual(await totals(), { series: 2, images: 2 });
    // A FAIL keeps it hidden; the PASS after inspection lifts the hold.
    assert.equal((await app.gql(REVIEW, { uid: held!.uid, v: 'FAIL', note: 'burned-in name' }, curator)).errors, undefined);
    assert.deepEqual(await anonymousSees(held!.uid, await imageOf(held!.id)), []);
    assert.equal((await app.gql(REVIEW, { uid: held!.uid, v: 'PASS', note: 'text is a scale bar' }, curator)).errors, undefined);
    assert.deepEqual(await anonymousSees(held!.uid, await imageOf(held!.id)), ['series', 'image', 'lookup', 'thumbnail', 'preview']);
    assert.deepEqual(await totals(), { series: 3, images: 3 });
  });
});
