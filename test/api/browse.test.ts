import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';

describe('browsing the seeded archive', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.02 }); });
  after(async () => { await app?.stop(); });

  it('lists the four collections of the paper with their access policy and BioProject', async () => {
    const { data } = await app.gql(`{ collections(first: 10) { totalCount edges { node { accession disease accessibility releaseState bioProjectAccession } } } }`);
    assert.equal(data.collections.totalCount, 4);
    const rows = data.collections.edges.map((e: any) => e.node);
    assert.deepEqual(rows.map((r: any) => r.accession), ['OBIA0001', 'OBIA0002', 'OBIA0003', 'OBIA0004']);
    assert.deepEqual(rows.map((r: any) => r.accessibility), ['OPEN', 'CONTROLLED', 'OPEN', 'CONTROLLED']);
    assert.equal(rows[1].disease, 'ovarian cancer');
    assert.match(rows[0].bioProjectAccession, /^PRJCA\d+$/);
  });

  it('pages through individuals with cursors, without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const { data }: any = await app.gql(`query($after: String) { individuals(first: 5, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { accession } } } }`, { after });
      total = data.individuals.totalCount;
      seen.push(...data.individuals.edges.map((e: any) => e.node.accession));
      if (!data.individuals.pageInfo.hasNextPage) break;
      after = data.individuals.pageInfo.endCursor;
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
  });

  it('filters series by modality, anatomical site and age range', async () => {
    const { data } = await app.gql(`{ seriesList(first: 500, filter: { modality: ["MR"], anatomicalSite: ["PELVIS"], ageMin: 40, ageMax: 60 }) {
      totalCount edges { node { modality anatomicalSite imageCount individual { age } } } } }`);
    assert.ok(data.seriesList.totalCount > 0, 'the seed has pelvic MR series of 40-60 year olds');
    for (const { node } of data.seriesList.edges) {
      assert.equal(node.modality, 'MR');
      assert.equal(node.anatomicalSite, 'PELVIS');
      assert.ok(node.individual.age >= 40 && node.individual.age <= 60);
      assert.ok(node.imageCount > 0);
    }
  });

  it('answers the multi-omics question: CT of ovarian cancer patients with a GSA-Human link', async () => {
    const { data } = await app.gql(`{ individuals(first: 500, filter: { disease: "ovarian cancer", modality: ["CT"], hasGsaHumanLink: true }) {
      totalCount edges { node { accession disease gsaHumanAccession collection { accession } studies { series { modality } } } } } }`);
    assert.ok(data.individuals.totalCount > 0);
    for (const { node } of data.individuals.edges) {
      assert.equal(node.disease, 'ovarian cancer');
      assert.match(node.gsaHumanAccession, /^HRI\d{6}$/);
      assert.equal(node.collection.accession, 'OBIA0002');
      assert.ok(node.studies.some((s: any) => s.series.some((x: any) => x.modality === 'CT')));
    }
    const without = await app.gql(`{ individuals(filter: { hasGsaHumanLink: false, collection: ["OBIA0002"] }) { totalCount } }`);
    const all = await app.gql(`{ individuals(filter: { collection: ["OBIA0002"] }) { totalCount } }`);
    const linked = await app.gql(`{ individuals(filter: { hasGsaHumanLink: true, collection: ["OBIA0002"] }) { totalCount } }`);
    assert.equal(without.data.individuals.totalCount + linked.data.individuals.totalCount, all.data.individuals.totalCount);
  });

  it('searches titles, descriptions and keywords by keyword', async () => {
    const { data } = await app.gql(`{ collections(filter: { keyword: "radiogenomic" }) { edges { node { accession } } } }`);
    assert.deepEqual(data.collections.edges.map((e: any) => e.node.accession), ['OBIA0002']);
    const none = await app.gql(`{ collections(filter: { keyword: "100%_" }) { totalCount } }`);
    assert.equal(none.data.collections.totalCount, 0, 'LIKE wildcards in a keyword are literal');
  });

  it('filters studies by accessibility and sex', async () => {
    const { data } = await app.gql(`{ studies(first: 500, filter: { accessibility: CONTROLLED, sex: [FEMALE] }) { totalCount edges { node { collection { accessibility } } } } }`);
    assert.ok(data.studies.totalCount > 0);
    assert.ok(data.studies.edges.every((e: any) => e.node.collection.accessibility === 'CONTROLLED'));
    const male = await app.gql(`{ studies(filter: { sex: [MALE] }) { totalCount } }`);
    assert.equal(male.data.studies.totalCount, 0, 'the seeded gynaecological cohorts are all female');
  });

  it('navigates down from a collection to images and back up again', async () => {
    const { data } = await app.gql(`{ collection(accession: "OBIA0003") { individuals(first: 1) { edges { node { accession studies { accession series { uid imageCount images(first: 3) { totalCount edges { node { uid sha256 size transferSyntaxUid series { uid study { accession individual { accession collection { accession } } } } } } } } } } } } } }`);
    const individual = data.collection.individuals.edges[0].node;
    const series = individual.studies[0].series[0];
    assert.equal(series.images.totalCount, series.imageCount);
    const image = series.images.edges[0].node;
    assert.equal(image.series.uid, series.uid);
    assert.equal(image.series.study.accession, individual.studies[0].accession);
    assert.equal(image.series.study.individual.accession, individual.accession);
    assert.equal(image.series.study.individual.collection.accession, 'OBIA0003');
  });

  it('looks up any accession or UID', async () => {
    const page = await app.gql(`{ seriesList(first: 1) { edges { node { uid study { accession studyInstanceUid } images(first: 1) { edges { node { uid } } } } } } }`);
    const s = page.data.seriesList.edges[0].node;
    const ids = { OBIA0002: 'Collection', I000001: 'Individual', [s.study.accession]: 'Study', [s.uid]: 'Series', [s.images.edges[0].node.uid]: 'Image', [s.study.studyInstanceUid]: 'Study' };
    for (const [id, type] of Object.entries(ids)) {
      const { data } = await app.gql(`query($id: ID!) { lookup(id: $id) { __typename } }`, { id });
      assert.equal(data.lookup?.__typename, type, id);
    }
    const single = await app.gql(`query($uid: String!) { series(uid: $uid) { uid } image(uid: "1.2.3.4") { uid } }`, { uid: s.uid });
    assert.equal(single.data.series.uid, s.uid);
    assert.equal(single.data.image, null);
  });

  it('gives null for an unknown accession and BAD_USER_INPUT naming the format for a malformed one', async () => {
    const unknown = await app.gql(`{ collection(accession: "OBIA9999") { accession } individual(accession: "I999999") { accession } study(accession: "S99999999") { accession } }`);
    assert.deepEqual(unknown.data, { collection: null, individual: null, study: null });
    for (const [query, format] of [
      ['{ collection(accession: "OBIA12") { accession } }', 'OBIA followed by 4 digits'],
      ['{ individual(accession: "P000001") { accession } }', 'I followed by 6 digits'],
      ['{ study(accession: "S1") { accession } }', 'S followed by 8 digits'],
      ['{ series(uid: "not-a-uid") { uid } }', 'DICOM UID'],
      ['{ lookup(id: "robert\'); drop table image;--") { __typename } }', 'accession'],
    ] as const) {
      const res = await app.gql(query);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', query);
      assert.ok(res.errors![0].message.includes(format), `${res.errors![0].message} names ${format}`);
    }
  });

  it('refuses a page size over 500 and a foreign cursor', async () => {
    const big = await app.gql(`{ collections(first: 501) { totalCount } }`);
    assert.equal(big.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(big.errors![0].message, /500/);
    const page = await app.gql(`{ collections(first: 1) { pageInfo { endCursor } } }`);
    const foreign = await app.gql(`query($a: String) { individuals(after: $a) { totalCount } }`, { a: page.data.collections.pageInfo.endCursor });
    assert.equal(foreign.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});
