// Regression tests for hostile uses of collection versions (who sees what of a version; bad input).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';
import { insertRequest } from '../access/support.js';
import { addSeries } from './support.js';

const FILES = `query($a: String!) { collection(accession: $a) { versions { number files(first: 5) { edges { node { sopInstanceUid sha256 } } } } } }`;

describe('collection versions, used against themselves', () => {
  let app: TestApp;
  let curator: string, researcher: string;
  let accession: string;
  let collectionId: number;

  before(async () => {
    app = await startTestApp();
    curator = await app.token('vh-curator', Role.CURATOR);
    researcher = await app.token('vh-researcher', Role.RESEARCHER);
    const em = app.orm.em.fork() as EntityManager;
    const c = await makeCollection(em, { submitter: 'vh-owner', accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.DRAFT }, { series: 1, images: 2 });
    accession = c.accession;
    await em.getKnex()('image').update({ sha256: 'ab'.repeat(32) });
    for (const s of await em.getKnex()('series').where('collection_id', c.id).select('uid')) {
      assert.equal((await app.gql(`mutation($u: String!) { reviewSeries(uid: $u, verdict: PASS, note: "ok") { verdict } }`, { u: s.uid }, curator)).errors, undefined);
    }
    // Two releases at once are one release and one version.
    const outs = await Promise.all([1, 2].map(() => app.gql(`mutation($a: String!) { releaseCollection(accession: $a) { released } }`, { a: accession }, curator)));
    for (const o of outs) assert.equal(o.data?.releaseCollection?.released, true, JSON.stringify(o.errors));
    collectionId = c.id;
  });
  after(async () => { await app?.stop(); });

  it('a controlled version lists its files\' sha256 only to who may fetch them (as Image.sha256)', async () => {
    const digests = async (token: string | null) => {
      const res = await app.gql(FILES, { a: accession }, token);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const versions = res.data.collection.versions;
      assert.equal(versions.length, 1);
      return versions[0].files.edges.map((e: any) => e.node.sha256);
    };
    // Anonymous callers and researchers without an approval read the metadata, not the digests (they were listed).
    assert.deepEqual(await digests(null), [null, null]);
    assert.deepEqual(await digests(researcher), [null, null]);
    const image = await app.gql(`query($u: String!) { image(uid: $u) { sha256 } }`, { u: (await app.gql(FILES, { a: accession }, null)).data.collection.versions[0].files.edges[0].node.sopInstanceUid }, researcher);
    assert.equal(image.data.image.sha256, null, 'the same rule as Image.sha256');
    for (const token of [curator, await app.token('vh-owner', Role.SUBMITTER)]) assert.deepEqual(await digests(token), ['ab'.repeat(32), 'ab'.repeat(32)]);
    await insertRequest(app, collectionId, 'vh-researcher', AccessRequestState.APPROVED);
    assert.deepEqual(await digests(researcher), ['ab'.repeat(32), 'ab'.repeat(32)]);
  });

  it('malformed identifiers are BAD_USER_INPUT, never echoed (they were NOT_FOUND or FORBIDDEN quoting them whole)', async () => {
    const hostile = `${'A'.repeat(300)}<x/>`;
    for (const q of [
      `mutation($h: String!) { releaseCollection(accession: $h) { released } }`,
      `mutation($h: String!) { reviewSeries(uid: $h, verdict: PASS, note: "ok") { verdict } }`,
      `mutation($h: String!) { withdrawImage(uid: $h, reason: QUALITY, note: "x") { reason } }`,
      `mutation($h: String!) { createVersionDownloadLink(collection: $h, number: 1) { url } }`,
      `mutation($h: String!) { mintVersionDoi(collection: $h, number: 1) { number } }`,
      `mutation($h: String!) { declareEquivalentDataset(collection: $h, dataset: "HRA000001", repository: "GSA-Human") { datasetId } }`,
    ]) {
      const res = await app.gql(q, { h: hostile }, curator);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${q}: ${JSON.stringify(res.errors?.[0]?.extensions)}`);
      assert.ok(!JSON.stringify(res.errors).includes('AAAAAAAA'), `${q} echoed the value`);
    }
    // A version number is a positive integer everywhere (mintVersionDoi answered NOT_FOUND for -1).
    for (const n of [0, -1]) {
      const res = await app.gql(`mutation($a: String!, $n: Int!) { mintVersionDoi(collection: $a, number: $n) { number } }`, { a: accession, n }, curator);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    }
  });

  it('withdrawing an image never released (a series not yet passed) cuts no version and lists no tombstone publicly', async () => {
    const unseen = await addSeries(app, collectionId, 1);
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    // Arrived after the release, not yet reviewed: hidden from everyone but its submitter and curators.
    await knex('series').where('uid', unseen.uid).update({ published: false });
    const [imageUid] = [...unseen.bytes.keys()];
    const withdrawn = await app.gql(`mutation($u: String!) { withdrawImage(uid: $u, reason: IDENTIFIABLE_INFORMATION, note: "name on the film") { reason } }`, { u: imageUid }, curator);
    assert.equal(withdrawn.errors, undefined, JSON.stringify(withdrawn.errors));
    const seen = (await app.gql(`query($a: String!) { collection(accession: $a) { versions { number withdrawn { sopInstanceUid seriesInstanceUid note } } } }`, { a: accession }, null)).data.collection.versions;
    // It cut v2, whose public tombstone named the unreviewed image, its series and the curator's note.
    assert.deepEqual(seen.map((v: any) => v.number), [1]);
    assert.ok(!JSON.stringify(seen).includes(imageUid) && !JSON.stringify(seen).includes('name on the film'));
  });

  it('versions and a version\'s withdrawals answer a page (first, before/after), not every row', async () => {
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    // Every withdrawal cuts a version and leaves a tombstone: 520 of each, written directly.
    const v1 = await knex('collection_version').where('collection_id', collectionId).where('number', 1).first();
    const { id: _id, ...copy } = v1;
    await knex.batchInsert('collection_version', Array.from({ length: 520 }, (_, i) => ({ ...copy, number: i + 2, identifier: `LOCAL/${accession}.v${i + 2}` })), 50);
    const t = { collection_id: collectionId, series_instance_uid: '1.2.3', study_accession: 'S00000001', individual_accession: 'I000001', sha256: 'cd'.repeat(32), size: 1, reason: 'QUALITY', note: 'x', withdrawn_by: 'vh-curator', withdrawn_at: v1.created_at, first_absent_from: 1 };
    await knex.batchInsert('image_tombstone', Array.from({ length: 520 }, (_, i) => ({ ...t, sop_instance_uid: `1.2.3.${1000 + i}` })), 50);
    const Q = `query($a: String!) { collection(accession: $a) { versions { number } version(number: 1) { withdrawn { sopInstanceUid } } } }`;
    const byDefault = (await app.gql(Q, { a: accession }, null)).data.collection;
    assert.deepEqual([byDefault.versions.length, byDefault.version.withdrawn.length], [20, 100], 'every version and every tombstone were listed');
    assert.equal(byDefault.versions[0].number, 521);
    const P = `query($a: String!, $before: Int, $after: String) { collection(accession: $a) { versions(first: 500, before: $before) { number } } t: collection(accession: $a) { version(number: 1) { withdrawn(first: 500, after: $after) { sopInstanceUid } } } }`;
    const first = (await app.gql(P, { a: accession }, null)).data;
    assert.deepEqual([first.collection.versions.length, first.t.version.withdrawn.length], [500, 500]);
    const rest = (await app.gql(P, { a: accession, before: first.collection.versions.at(-1).number, after: first.t.version.withdrawn.at(-1).sopInstanceUid }, null)).data;
    assert.deepEqual(rest.collection.versions.map((v: any) => v.number), Array.from({ length: 21 }, (_, i) => 21 - i));
    assert.equal(rest.t.version.withdrawn.length, 20);
    const tooMany = await app.gql(`query($a: String!) { collection(accession: $a) { versions(first: 501) { number } } }`, { a: accession }, null);
    assert.equal(tooMany.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});
