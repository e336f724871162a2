// A user is the exact subject their token names. MariaDB compares text by a case-, accent- and
// trailing-space-insensitive collation unless told otherwise, so "ALICE", "alicé" and "alice "
// matched alice's rows there — her approved access request, her submissions, her delegations —
// while SQLite kept them apart. Every column that holds a subject compares exactly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessRequestState } from '../../src/entities/AccessRequest.js';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collectionWithFiles, insertRequest, type StoredCollection } from './support.js';

const LINK = `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`;
const LOOKALIKES = ['ALICE', 'Alice', 'alicé', 'alice ', 'alıce'];

describe('subjects that differ from a user only by case, accent or a trailing space are other users', () => {
  let app: TestApp;
  let c: StoredCollection;
  before(async () => {
    app = await startTestApp();
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'subjects' });
    await insertRequest(app, c.id, 'alice', AccessRequestState.APPROVED);
  });
  after(async () => { await app?.stop(); });

  it("does not give alice's approved access to a look-alike subject", async () => {
    const alice = await app.token('alice', Role.RESEARCHER);
    const granted = await app.gql(LINK, { a: c.accession }, alice);
    assert.equal(granted.errors, undefined, JSON.stringify(granted.errors));
    for (const sub of LOOKALIKES) {
      const res = await app.gql(LINK, { a: c.accession }, await app.token(sub, Role.RESEARCHER));
      assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN', `${JSON.stringify(sub)} was given alice's access`);
      const mine = await app.gql('{ myAccessRequests { id } }', {}, await app.token(sub, Role.RESEARCHER));
      assert.deepEqual(mine.data.myAccessRequests, [], `${JSON.stringify(sub)} sees alice's requests`);
    }
  });

  it("keeps a submission to its submitter: a look-alike neither sees nor works on it, and each is a user of their own", async () => {
    const alice = await app.token('alice', Role.SUBMITTER);
    const created = await app.gql('mutation { createSubmission(input: { title: "Alice\'s", disease: "glioma" }) { id } }', {}, alice);
    const id = created.data.createSubmission.id;
    for (const sub of LOOKALIKES) {
      const other = await app.token(sub, Role.SUBMITTER);
      assert.equal((await app.gql('query($id: ID!) { submission(id: $id) { id } }', { id }, other)).data.submission, null, JSON.stringify(sub));
      const p = await app.gql('mutation($id: ID!) { processSubmission(submission: $id) { state } }', { id }, other);
      assert.equal(p.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(sub));
    }
    const subs = (await app.orm.em.fork().getConnection().execute('select sub from user_account')).map((r: { sub: string }) => r.sub);
    for (const sub of ['alice', ...LOOKALIKES]) assert.ok(subs.includes(sub), `${JSON.stringify(sub)} is recorded as a user of its own`);
  });
});
