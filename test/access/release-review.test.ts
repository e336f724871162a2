import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/knex';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collectionWithFiles, fetchBytes, signLink, type StoredCollection } from './support.js';

const SECRET = 'release-review-secret';

/**
 * Issue 22, point 3: release means reviewed. A series that reaches an already released
 * collection (here: one holding an image held for burned-in annotation) is what the pipeline
 * leaves it: unpublished. Anonymous callers and other researchers find it nowhere until a
 * curator passes it; then it is everywhere, as the rest of the collection.
 */
describe('files added to a released collection stay hidden until a curator passes them', () => {
  let app: TestApp;
  let c: StoredCollection;
  let hiddenSeries: string;
  let hiddenImage: string;
  let researcher: string;
  let curator: string;
  let knex: ReturnType<EntityManager['getKnex']>;

  before(async () => {
    app = await startTestApp({ seedScale: 0.002, config: { gatewaySecret: SECRET } });
    knex = (app.orm.em as EntityManager).getKnex();
    c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'release review' },
      { individuals: 2, studies: 1, series: 1, images: 2 });
    // The second individual's series arrived after the release, with an image held for pixel review.
    hiddenSeries = c.series[1]!;
    const series = await knex('series').where('uid', hiddenSeries).first('id', 'study_id', 'individual_id');
    await knex('series').where('id', series.id).update({ published: false });
    hiddenImage = (await knex('image').where('series_id', series.id).orderBy('id').first('uid')).uid;
    researcher = await app.token('rr-researcher', Role.RESEARCHER);
    curator = await app.token('rr-curator', Role.CURATOR);
  });
  after(async () => { await app?.stop(); });

  const ids = async () => {
    const series = await knex('series').where('uid', hiddenSeries).first('study_id', 'individual_id');
    const study = await knex('study').where('id', series.study_id).first('accession');
    const individual = await knex('individual').where('id', series.individual_id).first('accession');
    return { study: study.accession as string, individual: individual.accession as string };
  };

  /** Everywhere an anonymous caller or a researcher could meet the new series or its image. */
  async function sightings(token: string | null): Promise<string[]> {
    const seen: string[] = [];
    const { study, individual } = await ids();
    const q = `query($c: String!, $s: String!, $sid: ID!, $i: String!, $st: String!, $ind: String!) {
      series(uid: $s) { uid } image(uid: $i) { uid } study(accession: $st) { accession } individual(accession: $ind) { accession }
      lookup(id: $sid) { __typename }
      seriesList(filter: { collection: [$c] }) { totalCount edges { node { uid } } }
      studies(filter: { collection: [$c] }) { totalCount }
      individuals(filter: { collection: [$c] }) { totalCount }
      collection(accession: $c) { individuals { totalCount edges { node { studies { series { uid } } } } } }
      statistics(filter: { collection: [$c] }) { total { individuals studies series images } }
    }`;
    const res = await app.gql(q, { c: c.accession, s: hiddenSeries, sid: hiddenSeries, i: hiddenImage, st: study, ind: individual }, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const d = res.data;
    if (d.series) seen.push('series lookup');
    if (d.image) seen.push('image lookup');
    if (d.study) seen.push('study lookup');
    if (d.individual) seen.push('individual lookup');
    if (d.lookup) seen.push('lookup');
    if (d.seriesList.edges.some((e: any) => e.node.uid === hiddenSeries) || d.seriesList.totalCount !== 1) seen.push('seriesList');
    if (d.studies.totalCount !== 1) seen.push('studies count');
    if (d.individuals.totalCount !== 1) seen.push('individuals count');
    if (d.collection.individuals.totalCount !== 1 || JSON.stringify(d.collection.individuals.edges).includes(hiddenSeries)) seen.push('collection.individuals');
    if (JSON.stringify(d.statistics.total) !== JSON.stringify({ individuals: 1, studies: 1, series: 1, images: 2 })) seen.push('statistics');

    const similar = await app.gql(`query($i: String!) { similarImages(image: { uid: $i }) { image { uid } } }`, { i: hiddenImage }, token);
    if (!similar.errors) seen.push('similarImages query image');

    const entities = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [GATEWAY_SECRET_HEADER]: SECRET, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
        variables: { r: [{ __typename: 'Series', uid: hiddenSeries }, { __typename: 'Image', uid: hiddenImage }, { __typename: 'Study', accession: study }, { __typename: 'Individual', accession: individual }] },
      }),
    }).then((r) => r.json()) as any;
    assert.equal(entities.errors, undefined, JSON.stringify(entities.errors));
    entities.data._entities.forEach((e: any, k: number) => { if (e) seen.push(`_entities ${['Series', 'Image', 'Study', 'Individual'][k]}`); });

    if ((await fetchBytes(`${app.url}/thumbnails/${hiddenImage}.png`, token)).status === 200) seen.push('thumbnail');
    if ((await fetchBytes(`${app.url}/previews/${hiddenSeries}.png`, token)).status === 200) seen.push('preview');

    if (token) {
      const link = await app.gql(`mutation($s: String!) { createDownloadLink(target: { series: $s }) { url } }`, { s: hiddenSeries }, token);
      if (!link.errors) seen.push('download link');
      const zip = await fetchBytes(signLink(app, { sub: 'rr-researcher', id: c.accession }), token);
      assert.equal(zip.status, 200);
      if (zip.body.includes(Buffer.from(hiddenImage)) || zip.body.includes(c.markers.get(hiddenImage)!)) seen.push('collection zip');
      const one = await fetchBytes(signLink(app, { sub: 'rr-researcher', id: c.accession }).replace('/archive.zip', `/images/${hiddenImage}.dcm`), token);
      if (one.status === 200) seen.push('single file');
    }
    return seen;
  }

  it('finds the new series nowhere as anonymous or as a researcher, while its owner and curators see it', async () => {
    assert.deepEqual(await sightings(null), []);
    assert.deepEqual(await sightings(researcher), []);
    const owner = await app.gql(`query($s: String!) { series(uid: $s) { uid } }`, { s: hiddenSeries }, await app.token('seed-owner', Role.SUBMITTER));
    assert.equal(owner.data.series?.uid, hiddenSeries);
    const asCurator = await app.gql(`query($s: String!) { series(uid: $s) { uid } }`, { s: hiddenSeries }, curator);
    assert.equal(asCurator.data.series?.uid, hiddenSeries);
  });

  it('shows it everywhere once a curator passes it', async () => {
    const pass = await app.gql(`mutation($s: String!) { reviewSeries(uid: $s, verdict: PASS, note: "no burned-in text") { verdict } }`, { s: hiddenSeries }, curator);
    assert.equal(pass.errors, undefined, JSON.stringify(pass.errors));
    const { study, individual } = await ids();
    const res = await app.gql(`query($c: String!, $s: String!, $i: String!, $st: String!, $ind: String!) {
      series(uid: $s) { uid } image(uid: $i) { uid } study(accession: $st) { accession } individual(accession: $ind) { accession }
      statistics(filter: { collection: [$c] }) { total { individuals studies series images } } }`,
    { c: c.accession, s: hiddenSeries, i: hiddenImage, st: study, ind: individual });
    assert.equal(res.data.series?.uid, hiddenSeries);
    assert.equal(res.data.image?.uid, hiddenImage);
    assert.equal(res.data.study?.accession, study);
    assert.equal(res.data.individual?.accession, individual);
    assert.deepEqual(res.data.statistics.total, { individuals: 2, studies: 2, series: 2, images: 4 });
    assert.equal((await fetchBytes(`${app.url}/thumbnails/${hiddenImage}.png`)).status, 200);
    assert.equal((await fetchBytes(`${app.url}/previews/${hiddenSeries}.png`)).status, 200);
    const one = await fetchBytes(signLink(app, { sub: 'rr-researcher', id: c.accession }).replace('/archive.zip', `/images/${hiddenImage}.dcm`), researcher);
    assert.equal(one.status, 200);
    // A published series cannot be reviewed again: the release stands.
    const again = await app.gql(`mutation($s: String!) { reviewSeries(uid: $s, verdict: FAIL, note: "x") { verdict } }`, { s: hiddenSeries }, curator);
    assert.equal(again.errors?.[0]?.extensions.code, 'BAD_USER_INPUT');
  });
});
