import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessModule } from '../../src/access/module.js';
import { MAX_DELEGATES, MAX_PENDING_REQUESTS } from '../../src/access/AccessRequestService.js';
import { User } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollections } from '../support/kit.js';
import { subscribeLive } from '../support/live.js';
import { collectionWithFiles, fetchBytes, REQUEST_INPUT, type StoredCollection } from './support.js';

const REQUEST = `mutation($a: String!, $i: AccessRequestInput!) { requestAccess(collection: $a, input: $i) { id state institution pledgeNotToReidentify } }`;
const REVIEW = `mutation($id: ID!, $d: ReviewDecision!, $n: String, $e: DateTimeISO) { reviewAccessRequest(id: $id, decision: $d, note: $n, expiresAt: $e) { id state decisionNote reviewer expiresAt } }`;
const LINK = `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url expiresAt } }`;

const UPDATED = 'subscription { accessRequestUpdated { id state collection { accession } } }';

describe('access requests, review, revocation, expiry, audit and users', () => {
  let app: TestApp;
  let c: StoredCollection;
  let owner: string; let researcher: string; let delegate: string; let stranger: string; let admin: string;

  before(async () => {
    app = await startTestApp();
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'requests' });
    owner = await app.token('seed-owner', Role.SUBMITTER);
    researcher = await app.issuer.issue({ sub: 'rita', roles: [Role.RESEARCHER], name: 'Rita Researcher', institution: 'Example University', email: 'rita@example.org' });
    delegate = await app.token('dora', Role.RESEARCHER);
    stranger = await app.token('sam', Role.RESEARCHER);
    admin = await app.token('ada', Role.ADMIN);
  });
  after(async () => { await app?.stop(); });

  it('records users on first sight, with their institution, and skips the write on later requests', async () => {
    await app.gql('{ viewer { id } }', {}, researcher);
    const em = app.orm.em.fork() as EntityManager;
    const user = await em.findOneOrFail(User, { sub: 'rita' });
    assert.equal(user.institution, 'Example University');
    assert.equal(user.name, 'Rita Researcher');
    const statements = await app.countQueries(() => app.gql('{ viewer { id } }', {}, researcher));
    assert.equal(statements, 0, 'a recently seen user costs no write');
  });

  it('requires the pledge and non-empty purpose', async () => {
    const noPledge = await app.gql(REQUEST, { a: c.accession, i: { ...REQUEST_INPUT, pledgeNotToReidentify: false } }, researcher);
    assert.equal(noPledge.errors![0].extensions.code, 'BAD_USER_INPUT');
    const noPurpose = await app.gql(REQUEST, { a: c.accession, i: { ...REQUEST_INPUT, purpose: '  ' } }, researcher);
    assert.equal(noPurpose.errors![0].extensions.code, 'BAD_USER_INPUT');
  });

  it('runs request → approve → download → revoke, notifying both sides and auditing each step', async () => {
    // Each resolves once the hub listens for that subscriber: no time allowed for registering.
    const [mine, owners, strangers] = await Promise.all([researcher, owner, stranger].map((t) => subscribeLive(app, t, UPDATED)));
    try {
      const req = await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, researcher);
      assert.equal(req.errors, undefined);
      const id = req.data.requestAccess.id;
      assert.equal(req.data.requestAccess.state, 'PENDING');
      const again = await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, researcher);
      assert.equal(again.errors![0].extensions.code, 'FORBIDDEN', 'one pending request at a time');

      // The owner sees it, with who asked; others may not look.
      const pending = await app.gql(`query($a: String!) { collection(accession: $a) { pendingAccessRequests { id purpose requester { id name institution firstSeen } } } pendingAccessRequests { id } }`, { a: c.accession }, owner);
      assert.equal(pending.data.collection.pendingAccessRequests[0].requester.institution, 'Example University');
      assert.deepEqual(pending.data.pendingAccessRequests.map((r: any) => r.id), [id]);
      const peek = await app.gql(`query($a: String!) { collection(accession: $a) { accessRequests { id } } }`, { a: c.accession }, stranger);
      assert.equal(peek.errors![0].extensions.code, 'FORBIDDEN');

      // A stranger cannot review; a delegate can once added.
      assert.equal((await app.gql(REVIEW, { id, d: 'APPROVE' }, stranger)).errors![0].extensions.code, 'FORBIDDEN');
      assert.equal((await app.gql(REVIEW, { id, d: 'APPROVE' }, delegate)).errors![0].extensions.code, 'FORBIDDEN');
      const added = await app.gql(`mutation($a: String!) { addCollectionDelegate(collection: $a, user: "dora") { delegates } }`, { a: c.accession }, owner);
      assert.deepEqual(added.data.addCollectionDelegate.delegates, ['dora']);
      const approved = await app.gql(REVIEW, { id, d: 'APPROVE', n: 'fine', e: new Date(Date.now() + 86_400_000).toISOString() }, delegate);
      assert.equal(approved.data.reviewAccessRequest.state, 'APPROVED');
      assert.equal(approved.data.reviewAccessRequest.reviewer, 'dora');

      const link = await app.gql(LINK, { a: c.accession }, researcher);
      const url = link.data.createDownloadLink.url;
      assert.equal((await fetchBytes(url, researcher)).status, 200);

      const revoked = await app.gql(`mutation($id: ID!) { revokeAccess(id: $id, note: "project ended") { state } }`, { id }, owner);
      assert.equal(revoked.data.revokeAccess.state, 'REVOKED');
      const after = await fetchBytes(url, researcher);
      assert.equal(after.status, 403, 'a link made before revocation stops working');
      assert.equal(after.body.indexOf('PK'), -1);

      const revokedEvent = (e: any) => e.data?.accessRequestUpdated?.state === 'REVOKED';
      await Promise.all([mine.next(revokedEvent, 'the requester\'s REVOKED event'), owners.next(revokedEvent, 'the owner\'s REVOKED event')]);
      for (const e of [...mine.events, ...owners.events]) assert.ok(!e.error && !e.errors, JSON.stringify(e));
      assert.deepEqual(mine.events.map((e) => e.data.accessRequestUpdated.state), ['PENDING', 'APPROVED', 'REVOKED']);
      assert.deepEqual(owners.events.map((e) => e.data.accessRequestUpdated.state), ['PENDING', 'APPROVED', 'REVOKED']);
      assert.equal(strangers.events.length, 0, 'a stranger hears nothing');

      const mineNow = await app.gql(`{ myAccessRequests { id state decisionNote collection { accession } } }`, {}, researcher);
      assert.deepEqual(mineNow.data.myAccessRequests[0], { id, state: 'REVOKED', decisionNote: 'project ended', collection: { accession: c.accession } });

      const log = await app.gql(`query($a: String!) { auditLog(collection: $a, first: 100) { totalCount edges { node { actor action decision reason } } } }`, { a: c.accession }, owner);
      const actions = log.data.auditLog.edges.map((e: any) => `${e.node.actor}:${e.node.action}:${e.node.decision}`);
      for (const expected of ['rita:request_access:ALLOW', 'rita:request_access:DENY', 'sam:review_requests:DENY', 'dora:review_requests:ALLOW',
        'dora:approve_request:ALLOW', 'rita:create_download_link:ALLOW', 'rita:download:ALLOW', 'seed-owner:revoke_access:ALLOW', 'rita:download:DENY']) {
        assert.ok(actions.includes(expected), `audit log holds ${expected}: ${actions.join(', ')}`);
      }
      const adminLog = await app.gql(`query($a: String!) { auditLog(collection: $a, first: 1) { totalCount } }`, { a: c.accession }, admin);
      assert.equal(adminLog.data.auditLog.totalCount, log.data.auditLog.totalCount);
      const refused = await app.gql(`query($a: String!) { auditLog(collection: $a) { totalCount } }`, { a: c.accession }, researcher);
      assert.equal(refused.errors![0].extensions.code, 'FORBIDDEN');
    } finally {
      await Promise.all([mine.dispose(), owners.dispose(), strangers.dispose()]);
    }
  });

  it('ends approvals at their expiry', async () => {
    // The app's access clock is moved instead of waiting for the expiry: the same decisions, no sleep.
    const access = AccessModule.of(app.orm)!;
    const start = Date.now();
    const at = (ms: number) => () => new Date(start + ms);
    const token = await app.token('erin', Role.RESEARCHER);
    const req = await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, token);
    const id = req.data.requestAccess.id;
    assert.equal((await app.gql(REVIEW, { id, d: 'APPROVE', e: new Date(Date.now() - 1000).toISOString() }, owner)).errors![0].extensions.code, 'BAD_USER_INPUT');
    const expiresAt = new Date(start + 60_000);
    assert.equal((await app.gql(REVIEW, { id, d: 'APPROVE', e: expiresAt.toISOString() }, owner)).data.reviewAccessRequest.expiresAt, expiresAt.toISOString());
    try {
      const link = await app.gql(LINK, { a: c.accession }, token);
      const url = link.data.createDownloadLink.url;
      assert.equal((await fetchBytes(url, token)).status, 200);
      access.now = at(59_000);
      assert.equal((await fetchBytes(url, token)).status, 200, 'a second before the expiry the approval still holds');
      assert.equal((await app.gql(`{ myAccessRequests { state } }`, {}, token)).data.myAccessRequests[0].state, 'APPROVED');
      // Past the approval's expiry but well within the link's own lifetime: the approval ends it.
      access.now = at(61_000);
      assert.ok(Date.parse(link.data.createDownloadLink.expiresAt) > start + 61_000, 'the link itself has not expired');
      assert.equal((await fetchBytes(url, token)).status, 403);
      const mine = await app.gql(`{ myAccessRequests { state } }`, {}, token);
      assert.equal(mine.data.myAccessRequests[0].state, 'EXPIRED');
      const relink = await app.gql(LINK, { a: c.accession }, token);
      assert.equal(relink.errors![0].extensions.code, 'FORBIDDEN');
    } finally {
      access.now = () => new Date();
    }
  });

  it('lets the owner reject, and the requester ask again afterwards', async () => {
    const token = await app.token('finn', Role.RESEARCHER);
    const id = (await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, token)).data.requestAccess.id;
    const rejected = await app.gql(REVIEW, { id, d: 'REJECT', n: 'scope unclear' }, owner);
    assert.equal(rejected.data.reviewAccessRequest.state, 'REJECTED');
    assert.equal((await app.gql(REVIEW, { id, d: 'APPROVE' }, owner)).errors![0].extensions.code, 'CONFLICT', 'decided once');
    assert.equal((await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, token)).data.requestAccess.state, 'PENDING');
  });
});

describe("a collection's delegates", () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('are bounded (the list is one unpaged field every owner page reads): the last place is taken, then QUOTA_EXCEEDED', async () => {
    const c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'delegates' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    const ADD = `mutation($a: String!, $u: String!) { addCollectionDelegate(collection: $a, user: $u) { accession } }`;
    const knex = (app.orm.em as EntityManager).getKnex();
    const at = app.orm.em.getPlatform().processDateProperty(new Date());
    await knex('collection_delegate').insert(Array.from({ length: MAX_DELEGATES - 1 }, (_, i) => ({ collection_id: c.id, user_sub: `member-${i}`, added_by: 'seed-owner', added_at: at })));
    assert.equal((await app.gql(ADD, { a: c.accession, u: 'the-last' }, owner)).errors, undefined);
    const over = await app.gql(ADD, { a: c.accession, u: 'one-too-many' }, owner);
    assert.equal(over.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED');
    assert.equal(over.errors?.[0]?.extensions?.maximum, MAX_DELEGATES);
    assert.equal((await app.gql(ADD, { a: c.accession, u: 'member-7' }, owner)).errors, undefined, 'naming a delegate again changes nothing and is no error');
  });
});

describe('access requests waiting for review', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('are one per researcher and collection: twelve copies sent at once make one request, the rest FORBIDDEN as a copy sent later is', async () => {
    const c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'copies' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const flooder = await app.token('flooder', Role.RESEARCHER);
    await app.gql('{ viewer { id } }', {}, flooder);
    const answers = await Promise.all(Array.from({ length: 12 }, () => app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, flooder)));
    assert.equal(answers.filter((a) => !a.errors).length, 1, JSON.stringify(answers.map((a) => a.errors?.[0]?.extensions?.code)));
    assert.ok(answers.filter((a) => a.errors).every((a) => a.errors?.[0]?.extensions?.code === 'FORBIDDEN'), JSON.stringify(answers.map((a) => a.errors?.[0]?.extensions?.code)));
    const knex = (app.orm.em as EntityManager).getKnex();
    assert.deepEqual(await knex('access_request').where({ requester: 'flooder', collection_id: c.id }).count({ n: '*' }).first().then((r) => Number(r!.n)), 1);

    // Once it is decided, the researcher may ask again.
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    const id = answers.find((a) => !a.errors)!.data.requestAccess.id;
    assert.equal((await app.gql(REVIEW, { id, d: 'REJECT', n: 'not enough detail' }, owner)).errors, undefined);
    assert.equal((await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, flooder)).errors, undefined);
  });

  it(`are at most ${MAX_PENDING_REQUESTS} per researcher over all collections: QUOTA_EXCEEDED past that`, async () => {
    const collections = await makeCollections(app.orm.em as EntityManager, MAX_PENDING_REQUESTS + 1,
      { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, submitter: 'seed-owner' }, { images: 1 });
    const researcher = await app.token('many-requests', Role.RESEARCHER);
    await app.gql('{ viewer { id } }', {}, researcher);
    const knex = (app.orm.em as EntityManager).getKnex();
    const at = app.orm.em.getPlatform().processDateProperty(new Date());
    // Rows written straight to the database up to one below the bound, then the mutation.
    await knex('access_request').insert(collections.slice(0, MAX_PENDING_REQUESTS - 1).map((c) => ({
      collection_id: c.id, requester: 'many-requests', purpose: 'p', scope_of_use: 's', institution: 'i', pledge_not_to_reidentify: true, state: 'PENDING', created_at: at, updated_at: at,
    })));
    assert.equal((await app.gql(REQUEST, { a: collections[MAX_PENDING_REQUESTS - 1]!.accession, i: REQUEST_INPUT }, researcher)).errors, undefined);
    const over = await app.gql(REQUEST, { a: collections[MAX_PENDING_REQUESTS]!.accession, i: REQUEST_INPUT }, researcher);
    assert.equal(over.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED');
    assert.equal(over.errors?.[0]?.extensions?.maximum, MAX_PENDING_REQUESTS);
  });
});
