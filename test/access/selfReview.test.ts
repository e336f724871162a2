// Regression: a researcher whose request was waiting, made a delegate of the collection (delegates
// review its requests), approved their own request; removed as a delegate afterwards, they kept
// the approval and with it the controlled files. Whoever decides a request is never who made it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';
import { REQUEST_INPUT } from './support.js';

const REQUEST = 'mutation($a: String!, $i: AccessRequestInput!) { requestAccess(collection: $a, input: $i) { id state } }';
const REVIEW = 'mutation($id: ID!, $d: ReviewDecision!) { reviewAccessRequest(id: $id, decision: $d) { id state } }';
const DELEGATE = 'mutation($a: String!, $u: String!) { addCollectionDelegate(collection: $a, user: $u) { accession } }';
const UNDELEGATE = 'mutation($a: String!, $u: String!) { removeCollectionDelegate(collection: $a, user: $u) { accession } }';

describe('an access request is never decided by its requester', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('refuses a delegate reviewing their own request (FORBIDDEN, audited), and leaves it PENDING for another owner', async () => {
    const c = await makeCollection(app.orm.em.fork() as EntityManager, { submitter: 'self-review-owner', accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'self review' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const owner = await app.token('self-review-owner', Role.SUBMITTER);
    const rex = await app.token('self-review-rex', Role.RESEARCHER);
    const req = await app.gql(REQUEST, { a: c.accession, i: REQUEST_INPUT }, rex);
    assert.equal(req.errors, undefined, JSON.stringify(req.errors));
    const id = req.data.requestAccess.id;
    assert.equal((await app.gql(DELEGATE, { a: c.accession, u: 'self-review-rex' }, owner)).errors, undefined);

    for (const d of ['APPROVE', 'REJECT']) {
      const own = await app.gql(REVIEW, { id, d }, rex);
      assert.equal(own.errors?.[0]?.extensions?.code, 'FORBIDDEN', `${d}: ${JSON.stringify(own.errors ?? own.data)}`);
    }
    assert.equal((await app.gql(UNDELEGATE, { a: c.accession, u: 'self-review-rex' }, owner)).errors, undefined);
    const knex = (app.orm.em as EntityManager).getKnex();
    assert.equal((await knex('access_request').where({ id: Number(id) }).first()).state, 'PENDING');
    const refusals = await knex('audit_event').where({ actor: 'self-review-rex', decision: 'DENY', collection_id: c.id }).select('reason');
    assert.ok(refusals.some((r: { reason: string }) => /own request/.test(r.reason)), 'the attempt is in the audit log');

    const byOwner = await app.gql(REVIEW, { id, d: 'APPROVE' }, owner);
    assert.equal(byOwner.data?.reviewAccessRequest?.state, 'APPROVED', JSON.stringify(byOwner.errors));
  });
});
