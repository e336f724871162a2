import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/knex';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { codeToHex } from '../../src/retrieval/code.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collectionWithFiles, fetchBytes, insertRequest, type StoredCollection } from './support.js';

/**
 * Issue 22, point 5: what of a CONTROLLED collection's images callers without VIEW_PIXELS see
 * (metadata and clinical fields, never sha256 or hash codes, never a similarity ranking), and
 * refused attempts audited on a bounded number of rows.
 */
describe('controlled images: what callers without pixel access see, and how refusals are audited', () => {
  let app: TestApp;
  let knex: ReturnType<EntityManager['getKnex']>;
  let open: StoredCollection;
  let controlled: StoredCollection;
  let approved: string;
  let researcher: string;
  const uidOf = (c: StoredCollection) => [...c.markers.keys()][0]!;

  before(async () => {
    app = await startTestApp({ seedScale: 0.002 });
    knex = (app.orm.em as EntityManager).getKnex();
    const shape = { individuals: 1, studies: 1, series: 1, images: 2 };
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'policy open' }, shape);
    controlled = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'policy controlled' }, shape);
    // Every image gets the same code, so a ranking would put controlled images at distance 0.
    const code = 0x0123456789abcdefn;
    for (const c of [open, controlled]) {
      for (const im of await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.collection_id', c.id).select('im.id', 'im.series_id')) {
        await knex('image').where('id', im.id).update({ hash_code: codeToHex(code) });
        app.hashCatalog.add(Number(im.id), Number(im.series_id), code);
      }
    }
    await insertRequest(app, controlled.id, 'policy-approved', AccessRequestState.APPROVED, new Date(Date.now() + 86_400_000));
    approved = await app.token('policy-approved', Role.RESEARCHER);
    researcher = await app.token('policy-researcher', Role.RESEARCHER);
  });
  after(async () => { await app?.stop(); });

  const IMAGE = `query($u: String!) { image(uid: $u) { uid size rows sha256 hashCode series { modality individual { sex age disease } } } }`;

  it('shows a controlled image\'s metadata and clinical fields to anyone, but its sha256 and hash code only with pixel access', async () => {
    for (const token of [null, researcher]) {
      const res = await app.gql(IMAGE, { u: uidOf(controlled) }, token);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const image = res.data.image;
      assert.equal(image.uid, uidOf(controlled));
      assert.ok(image.size > 0);
      assert.deepEqual(image.series.individual, { sex: 'FEMALE', age: 50, disease: 'test disease' });
      assert.equal(image.sha256, null, 'sha256 confirms whether someone holds a file');
      assert.equal(image.hashCode, null, 'the hash code describes the pixels');
    }
    for (const token of [approved, await app.token('seed-owner', Role.SUBMITTER), await app.token('policy-curator', Role.CURATOR)]) {
      const res = await app.gql(IMAGE, { u: uidOf(controlled) }, token);
      assert.match(res.data.image.sha256, /^[0-9a-f]{64}$/);
      assert.equal(res.data.image.hashCode, '0123456789abcdef');
    }
    // Open images keep both for everyone.
    const anon = await app.gql(IMAGE, { u: uidOf(open) });
    assert.match(anon.data.image.sha256, /^[0-9a-f]{64}$/);
    assert.equal(anon.data.image.hashCode, '0123456789abcdef');
  });

  it('never ranks controlled images for callers who may not view their pixels', async () => {
    const q = `query($u: String!) { similarImages(image: { uid: $u }, k: 50) { distance image { uid } } }`;
    const controlledUids = new Set(controlled.markers.keys());
    for (const token of [null, researcher]) {
      const res = await app.gql(q, { u: uidOf(open) }, token);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const uids = res.data.similarImages.map((h: any) => h.image.uid);
      assert.ok(uids.includes([...open.markers.keys()][1]), 'the other open image is ranked');
      assert.deepEqual(uids.filter((u: string) => controlledUids.has(u)), []);
      // Nor may a controlled image serve as the query: its code stands for its pixels.
      const byControlled = await app.gql(q, { u: uidOf(controlled) }, token);
      assert.equal(byControlled.errors?.[0]?.extensions.code, token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
    }
    const res = await app.gql(q, { u: uidOf(open) }, approved);
    const hits = res.data.similarImages.filter((h: any) => controlledUids.has(h.image.uid));
    assert.equal(hits.length, 2);
    assert.ok(hits.every((h: any) => h.distance === 0));
  });

  it('counts repeated refusals on one audit row per caller, action, collection and window', async () => {
    const denials = async () => {
      const rows: any[] = await knex('audit_event').where({ collection_id: controlled.id, action: 'view_thumbnail', decision: 'DENY' });
      const of = (actor: string | null) => rows.filter((r) => r.actor === actor);
      const sum = (list: any[]) => list.reduce((s, r) => s + Number(r.attempts), 0);
      return { anonymousRows: of(null).length, anonymous: sum(of(null)), signedInRows: of('policy-researcher').length, signedIn: sum(of('policy-researcher')) };
    };
    const total = async () => Number((await knex('audit_event').count({ n: '*' }).first())!.n);
    const [was, rowsBefore] = [await denials(), await total()];
    const thumbnail = `${app.url}/thumbnails/${uidOf(controlled)}.png`;
    const other = `${app.url}/thumbnails/${[...controlled.markers.keys()][1]}.png`;
    for (let i = 0; i < 40; i++) assert.equal((await fetchBytes(i % 2 ? other : thumbnail)).status, 401);
    for (let i = 0; i < 7; i++) assert.equal((await fetchBytes(thumbnail, researcher)).status, 403);
    const now = await denials();
    assert.equal(now.anonymous - was.anonymous, 40, 'every refusal is counted');
    assert.equal(now.signedIn - was.signedIn, 7);
    // 47 refusals added at most one row per caller (two if the run straddled a window boundary).
    assert.ok((await total()) - rowsBefore <= 4, `${(await total()) - rowsBefore} new rows`);
    assert.ok(now.anonymousRows <= 2 && now.signedInRows <= 2);

    // The owner reads them through auditLog, with the count.
    const log = await app.gql(`query($c: String!) { auditLog(collection: $c, first: 100) { edges { node { actor action decision attempts lastAt } } } }`,
      { c: controlled.accession }, await app.token('seed-owner', Role.SUBMITTER));
    assert.equal(log.errors, undefined, JSON.stringify(log.errors));
    const denied = log.data.auditLog.edges.map((e: any) => e.node).filter((n: any) => n.action === 'view_thumbnail' && n.decision === 'DENY');
    assert.equal(denied.filter((n: any) => n.actor === null).reduce((s: number, n: any) => s + n.attempts, 0), now.anonymous);
    assert.ok(denied.every((n: any) => n.lastAt));
  });

  it('still writes one row per allowed decision', async () => {
    const count = async () => Number((await knex('audit_event').where({ collection_id: controlled.id, decision: 'ALLOW', actor: 'policy-approved' }).count({ n: '*' }).first())!.n);
    const start = await count();
    for (let i = 0; i < 3; i++) assert.equal((await fetchBytes(`${app.url}/thumbnails/${uidOf(controlled)}.png`, approved)).status, 200);
    assert.equal(await count(), start + 3);
  });
});
