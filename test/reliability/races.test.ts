// The same mutation sent many times at once, or two conflicting ones, through the GraphQL endpoint:
// a decision read from a row and written later (check-then-act) must be made once. One request
// wins; the others get a typed answer (CONFLICT, or what a later request would get, or the same
// result where doing it twice is doing it once); the stored state is the winner's; nothing
// surfaces as an INTERNAL_SERVER_ERROR (a unique key refusing the second writer).
//
// MariaDB runs the requests truly together (each on a connection of its own), and that is where
// these failed before src/db/transitions.ts; the embedded SQLite has one connection per process,
// which serialises most of them already, and must stay consistent all the same.
import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_DELEGATES } from '../../src/access/AccessRequestService.js';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { collectionWithFiles, insertRequest } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';
import { withSeed, type Random } from '../support/random.js';

type Answer = { status: number; data?: any; errors?: any[] };
const codeOf = (r: Answer) => r.errors?.[0]?.extensions?.code ?? 'ok';
const codes = (rs: Answer[]) => rs.map(codeOf);
const winners = (rs: Answer[]) => rs.filter((r) => !r.errors);
const pick = <T>(random: Random, xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!;

/** Every answer is one of `allowed`, and none is an internal error (what a raw unique-key violation becomes). */
function assertTyped(rs: Answer[], allowed: string[]): void {
  for (const r of rs) assert.ok(allowed.includes(codeOf(r)), `expected only ${allowed.join(' or ')}: ${JSON.stringify(codes(rs))} ${JSON.stringify(r.errors?.[0]?.message ?? '')}`);
}

describe('requests sent together', () => {
  let app: TestApp;
  let knex: Knex;
  let curator: string;
  let owner: string;
  before(async () => {
    app = await startTestApp();
    knex = (app.orm.em.fork() as EntityManager).getKnex();
    curator = await app.token('cora', Role.CURATOR);
    owner = await app.token('seed-owner', Role.SUBMITTER);
  });
  after(async () => { await app?.stop(); });

  const count = async (table: string, where: Record<string, unknown>) => Number((await knex(table).where(where).count({ n: '*' }).first())!.n);
  const controlled = () => makeCollection(app.orm.em as EntityManager, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, submitter: 'seed-owner' });

  describe('an access request', () => {
    const REVIEW = `mutation($id: ID!, $d: ReviewDecision!) { reviewAccessRequest(id: $id, decision: $d) { state } }`;
    const REVOKE = `mutation($id: ID!) { revokeAccess(id: $id, note: "ended") { state } }`;
    const decisions = async (id: number, requester: string) =>
      (await knex('audit_event').where('resource', `access request ${id} by ${requester}`).orderBy('id').select('action')).map((a: any) => a.action);

    it('approved and rejected at once is decided once: one winner, the rest CONFLICT, one audited decision, the stored state the winner\'s', () => withSeed(async (random) => {
      const c = await controlled();
      for (let round = 0; round < 4; round++) {
        const requester = `racer-${round}`;
        const id = await insertRequest(app, c.id, requester, AccessRequestState.PENDING);
        const sent = Array.from({ length: random.int(2, 5) }, () => pick(random, ['APPROVE', 'REJECT'] as const));
        const rs = await Promise.all(sent.map((d) => app.gql(REVIEW, { id: String(id), d }, owner)));
        assertTyped(rs, ['ok', 'CONFLICT']);
        assert.equal(winners(rs).length, 1, `decisions ${sent.join(',')} answered ${codes(rs).join(',')}`);
        const won = sent[rs.findIndex((r) => !r.errors)]!;
        const state = won === 'APPROVE' ? 'APPROVED' : 'REJECTED';
        assert.equal(winners(rs)[0]!.data.reviewAccessRequest.state, state);
        assert.equal((await knex('access_request').where('id', id).first('state')).state, state);
        assert.deepEqual(await decisions(id, requester), [won === 'APPROVE' ? 'approve_request' : 'reject_request']);
        for (const lost of rs.filter((r) => r.errors)) assert.match(lost.errors![0].message, new RegExp(`is ${state}`));
      }
    }));

    it('revoked many times at once is revoked once', () => withSeed(async (random) => {
      const c = await controlled();
      for (let round = 0; round < 3; round++) {
        const requester = `revoked-${round}`;
        const id = await insertRequest(app, c.id, requester, AccessRequestState.APPROVED);
        const rs = await Promise.all(Array.from({ length: random.int(2, 5) }, () => app.gql(REVOKE, { id: String(id) }, owner)));
        assertTyped(rs, ['ok', 'CONFLICT']);
        assert.equal(winners(rs).length, 1, codes(rs).join(','));
        assert.equal((await knex('access_request').where('id', id).first('state')).state, 'REVOKED');
        assert.deepEqual(await decisions(id, requester), ['revoke_access']);
      }
    }));
  });

  describe("a collection's delegates", () => {
    const ADD = `mutation($a: String!, $u: String!) { addCollectionDelegate(collection: $a, user: $u) { delegates } }`;

    it('the same delegate added many times at once is added once', async () => {
      const c = await controlled();
      const rs = await Promise.all(Array.from({ length: 6 }, () => app.gql(ADD, { a: c.accession, u: 'dora' }, owner)));
      assertTyped(rs, ['ok']);
      for (const r of rs) assert.deepEqual(r.data.addCollectionDelegate.delegates, ['dora']);
      assert.equal(await count('collection_delegate', { collection_id: c.id }), 1);
      assert.equal(await count('audit_event', { collection_id: c.id, action: 'add_delegate' }), 1);
    });

    it('a burst of new delegates cannot pass the bound together: the free places are taken, the rest QUOTA_EXCEEDED', () => withSeed(async (random) => {
      const c = await controlled();
      const free = random.int(1, 3);
      const at = (app.orm.em as EntityManager).getPlatform().processDateProperty(new Date());
      await knex('collection_delegate').insert(Array.from({ length: MAX_DELEGATES - free }, (_, i) => ({ collection_id: c.id, user_sub: `held-${i}`, added_by: 'seed-owner', added_at: at })));
      const rs = await Promise.all(Array.from({ length: free + random.int(3, 6) }, (_, i) => app.gql(ADD, { a: c.accession, u: `late-${i}` }, owner)));
      assertTyped(rs, ['ok', 'QUOTA_EXCEEDED']);
      assert.equal(winners(rs).length, free, codes(rs).join(','));
      assert.equal(await count('collection_delegate', { collection_id: c.id }), MAX_DELEGATES);
    }));
  });

  describe('release', () => {
    const RELEASE = `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason } } }`;
    const REVIEW = `mutation($u: String!, $v: QcVerdict!) { reviewSeries(uid: $u, verdict: $v, note: "seen slice by slice") { verdict } }`;
    const WITHDRAW = `mutation($u: String!) { withdrawImage(uid: $u, reason: QUALITY, note: "motion artefact") { sopInstanceUid } }`;
    const reviewed = async () => {
      const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.DRAFT });
      for (const u of c.series) assert.equal((await app.gql(REVIEW, { u, v: 'PASS' }, curator)).errors, undefined);
      return c;
    };
    const versions = async (collectionId: number) => (await knex('collection_version').where('collection_id', collectionId).orderBy('number').select('number')).map((v: any) => Number(v.number));

    it('of a collection many times at once is one release: one RELEASED decision and one version', () => withSeed(async (random) => {
      for (let round = 0; round < 3; round++) {
        const c = await reviewed();
        const rs = await Promise.all(Array.from({ length: random.int(2, 4) }, () => app.gql(RELEASE, { a: c.accession }, curator)));
        assertTyped(rs, ['ok']);
        for (const r of rs) assert.deepEqual(r.data.releaseCollection, { released: true, blockers: [] });
        assert.equal(await count('qc_event', { collection_id: c.id, kind: 'RELEASED' }), 1);
        assert.deepEqual(await versions(c.id), [1]);
      }
    }));

    it('while a curator fails one of its series: either the FAIL comes first and blocks the release, or the series is released and can no longer be failed', () => withSeed(async (random) => {
      for (let round = 0; round < 4; round++) {
        const c = await reviewed();
        const failed = pick(random, c.series);
        const [release, fail] = await Promise.all([app.gql(RELEASE, { a: c.accession }, curator), app.gql(REVIEW, { u: failed, v: 'FAIL' }, curator)]);
        assertTyped([release], ['ok']);
        const state = (await knex('collection').where('id', c.id).first('release_state')).release_state;
        const series = await knex('series as s').join('series_review as r', 'r.series_id', 's.id').where('s.uid', failed).first('s.published', 'r.verdict');
        if (release.data.releaseCollection.released) {
          assert.equal(codeOf(fail), 'BAD_USER_INPUT', 'a released series can no longer be reviewed');
          assert.equal(state, 'RELEASED');
          assert.deepEqual([Boolean(series.published), series.verdict], [true, 'PASS']);
          assert.deepEqual(await versions(c.id), [1]);
        } else {
          assert.equal(codeOf(fail), 'ok');
          assert.deepEqual(release.data.releaseCollection.blockers, [{ reason: 'FAILED_SERIES' }]);
          assert.equal(state, 'DRAFT');
          assert.deepEqual([Boolean(series.published), series.verdict], [false, 'FAIL']);
        }
      }
    }));

    it('the first review of a series sent twice at once writes one review', async () => {
      const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.DRAFT });
      const rs = await Promise.all(c.series.flatMap((u) => [app.gql(REVIEW, { u, v: 'PASS' }, curator), app.gql(REVIEW, { u, v: 'PASS' }, curator)]));
      assertTyped(rs, ['ok']);
      for (const u of c.series) {
        const series = await knex('series').where('uid', u).first('id');
        assert.equal(await count('series_review', { series_id: series.id }), 1);
      }
    });

    it('an image withdrawn many times at once is withdrawn once: one tombstone, the series one image shorter, one new version', () => withSeed(async (random) => {
      const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED });
      assert.deepEqual((await app.gql(RELEASE, { a: c.accession }, curator)).data.releaseCollection.released, true);
      const uid = pick(random, [...c.bytes.keys()]);
      const series = await knex('image as im').join('series as s', 's.id', 'im.series_id').where('im.uid', uid).first('s.id', 's.image_count');
      const rs = await Promise.all(Array.from({ length: random.int(2, 4) }, () => app.gql(WITHDRAW, { u: uid }, curator)));
      assertTyped(rs, ['ok', 'CONFLICT', 'NOT_FOUND']);
      assert.equal(winners(rs).length, 1, codes(rs).join(','));
      assert.equal(await count('image_tombstone', { sop_instance_uid: uid }), 1);
      assert.equal(Number((await knex('series').where('id', series.id).first('image_count')).image_count), Number(series.image_count) - 1);
      assert.deepEqual(await versions(c.id), [1, 2]);
    }));

    it('the same equivalent dataset declared many times at once is declared once', async () => {
      const c = await controlled();
      const DECLARE = `mutation($a: String!, $d: String!) { declareEquivalentDataset(collection: $a, dataset: $d, repository: "GSA-Human") { datasetId } }`;
      for (const dataset of ['HRA000001', 'HRA000002', 'phs000001.v1.p1']) {
        const rs = await Promise.all(Array.from({ length: 6 }, () => app.gql(DECLARE, { a: c.accession, d: dataset }, curator)));
        assertTyped(rs, ['ok']);
        for (const r of rs) assert.equal(r.data.declareEquivalentDataset.datasetId, dataset);
      }
      assert.equal(await count('collection_dataset', { collection_id: c.id }), 3);
    });
  });

  describe('a quarantined file', () => {
    const REPAIR = `mutation($f: ID!) { requestRepair(file: $f, message: "send it again with its PatientID") { id } }`;
    const RESOLVE = `mutation($f: ID!, $a: QuarantineAction!) { resolveQuarantined(file: $f, action: $a) { id state } }`;

    it('asked to be repaired and discarded by several requests at once has one curation: one DISCARDED decision, the other discards refused', async () => {
      const submitter = await app.token('sam', Role.SUBMITTER);
      const created = await app.gql(`mutation { createSubmission(input: { title: "Brain MR", disease: "glioma" }) { id } }`, {}, submitter);
      const submission = Number(created.data.createSubmission.id);
      const at = (app.orm.em as EntityManager).getPlatform().processDateProperty(new Date());
      for (let round = 0; round < 3; round++) {
        const [id] = await knex('submission_file').insert({
          submission_id: submission, original_name: `scan-${round}.dcm`, staging_path: `absent/${submission}/${round}`, size: 1, sha256: '0'.repeat(64),
          state: 'QUARANTINED', quarantine_reason: 'MISSING_PATIENT_ID', received_at: at,
        });
        const f = String(id);
        const rs = await Promise.all([app.gql(REPAIR, { f }, curator), app.gql(REPAIR, { f }, curator), app.gql(RESOLVE, { f, a: 'DISCARD' }, submitter), app.gql(RESOLVE, { f, a: 'DISCARD' }, submitter)]);
        assertTyped(rs, ['ok', 'BAD_USER_INPUT']);
        const discards = rs.slice(2);
        assert.equal(winners(discards).length, 1, codes(rs).join(','));
        assert.equal(await count('file_curation', { file_id: Number(id) }), 1);
        assert.equal(await count('qc_event', { subject: `file:${id}`, kind: 'DISCARDED' }), 1);
        assert.equal((await knex('file_curation').where('file_id', Number(id)).first('resolution')).resolution, 'DISCARD');
      }
    });
  });

  describe('clinical data', () => {
    it('the same patient\'s record sent many times at once is staged once', async () => {
      const submitter = await app.token('sam', Role.SUBMITTER);
      const created = await app.gql(`mutation { createSubmission(input: { title: "Ovarian CT", disease: "ovarian cancer" }) { id } }`, {}, submitter);
      const s = created.data.createSubmission.id;
      const ADD = `mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`;
      const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => app.gql(ADD, { s, r: [{ localPatientId: 'PAT-1', sex: 'FEMALE', age: 50 + i }] }, submitter)));
      assertTyped(rs, ['ok']);
      assert.equal(await count('clinical_record', { submission_id: Number(s) }), 1);
    });
  });
});
