import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';

const VIEWER = '{ viewer { id roles } }';

describe('identity from bearer tokens', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('knows a user by a token from the local issuer', async () => {
    const token = await app.token('alice', Role.SUBMITTER);
    const { data } = await app.gql(VIEWER, {}, token);
    assert.deepEqual(data.viewer, { id: 'alice', roles: ['SUBMITTER'] });
  });

  it("answers a new user's first requests arriving together, and records the user once", async () => {
    // A portal opens with several queries at once; each records its user, and on MariaDB
    // concurrent upserts of one new row can deadlock.
    const knex = (app.orm.em as EntityManager).getKnex();
    for (const [n, who] of [[30, 'carol'], [30, 'dave']] as const) {
      const token = await app.token(who, Role.RESEARCHER);
      let writes = 0;
      const countWrites = (q: { sql: string }) => { if (/^insert into .user_account./i.test(q.sql)) writes++; };
      knex.on('query', countWrites);
      let answers: any[];
      try {
        answers = await Promise.all(Array.from({ length: n }, () => app.gql(VIEWER, {}, token)));
      } finally {
        knex.removeListener('query', countWrites);
      }
      for (const res of answers) {
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        assert.equal(res.data.viewer.id, who);
      }
      assert.equal(writes, 1, `${n} requests arriving together write the new user once`);
      assert.equal((await knex('user_account').where({ sub: who })).length, 1);
    }
  });

  it('treats a request without a token as anonymous', async () => {
    const { data, errors } = await app.gql(VIEWER);
    assert.equal(errors, undefined);
    assert.equal(data.viewer, null);
  });

  it('refuses invalid, expired, unsigned, foreign and mis-addressed tokens with UNAUTHENTICATED', async () => {
    const { config } = app;
    const foreignKey = (await generateKeyPair('ES256')).privateKey;
    const sign = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: number } = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'not-ours' }).setSubject('mallory')
        .setIssuer(opts.iss ?? config.oidc.issuer).setAudience(opts.aud ?? config.oidc.audience)
        .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600).sign(foreignKey);
    const good = await app.token('alice', Role.ADMIN);
    const [header, payload] = good.split('.');
    const expired = await app.issuer.issue({ sub: 'alice', roles: [Role.ADMIN] }, -3600);
    const cases: Record<string, string> = {
      garbage: 'not.a.token',
      tampered: `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin', 'curator'] })).toString('base64url')}.${good.split('.')[2]}`,
      expired,
      'alg none': new UnsecuredJWT({ roles: ['admin'] }).setSubject('mallory').setIssuer(config.oidc.issuer).setAudience(config.oidc.audience).setExpirationTime('1h').encode(),
      'key not in the JWKS': await sign({ roles: ['admin'] }),
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await app.gql(VIEWER, {}, token);
      assert.equal(res.status, 401, name);
      assert.equal(res.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', name);
      assert.equal(res.data, undefined, `${name}: no data`);
    }
    const blank = await app.gql(VIEWER, {}, '');
    assert.equal(blank.status, 200, 'no Authorization header at all is anonymous, not an error');
    assert.equal(blank.data.viewer, null);
  });

  it('shows unreleased collections only to their submitter and curators', async () => {
    const draft = await makeCollection(app.orm.em as EntityManager, { submitter: 'bob', releaseState: ReleaseState.DRAFT, title: 'Unreleased cohort' });
    const q = `query($a: String!) { collection(accession: $a) { accession } collections(filter: { keyword: "unreleased" }) { totalCount } }`;
    const anonymous = await app.gql(q, { a: draft.accession });
    assert.equal(anonymous.data.collection, null);
    assert.equal(anonymous.data.collections.totalCount, 0);
    const stranger = await app.gql(q, { a: draft.accession }, await app.token('carol', Role.RESEARCHER));
    assert.equal(stranger.data.collection, null);
    const owner = await app.gql(q, { a: draft.accession }, await app.token('bob', Role.SUBMITTER));
    assert.equal(owner.data.collection.accession, draft.accession);
    const curator = await app.gql(q, { a: draft.accession }, await app.token('dana', Role.CURATOR));
    assert.equal(curator.data.collections.totalCount, 1);
  });
});
