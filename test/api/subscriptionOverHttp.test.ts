// Regression: a subscription operation POSTed (or GET) to /graphql was run by Apollo as a query:
// each subscription field's resolver met no event, so `accessRequestUpdated` and `qcEvents` threw
// TypeErrors — INTERNAL_SERVER_ERROR to the caller and an "unexpected error" in the log for a
// client's mistake. Now BAD_USER_INPUT (400) saying subscriptions run over graphql-ws.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('which transport may run subscriptions; no stored data is read');

describe('subscriptions over HTTP', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('are BAD_USER_INPUT (400) over POST and GET, named or picked by operationName, and nothing is logged as unexpected', async () => {
    const token = await app.token('http-subscriber', Role.SUBMITTER);
    const from = app.logs.length;
    const cases: [string, string | undefined][] = [
      ['subscription { accessRequestUpdated { id } }', undefined],
      ['subscription Q { qcEvents(submission: "1") { kind } }', undefined],
      ['query A { __typename } subscription B { accessRequestUpdated { id } }', 'B'],
    ];
    for (const [query, operationName] of cases) {
      const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, operationName }) });
      assert.equal(res.status, 400, query);
      const body = await res.json() as any;
      assert.equal(body.errors[0].extensions.code, 'BAD_USER_INPUT', query);
      assert.match(body.errors[0].message, /graphql-ws/);
    }
    const get = await fetch(`${app.url}/graphql?query=${encodeURIComponent('subscription { accessRequestUpdated { id } }')}`, { headers: { 'apollo-require-preflight': '1', authorization: `Bearer ${token}` } });
    assert.equal(get.status, 400);
    assert.ok(!app.logs.slice(from).some((l) => /unexpected error/.test(l)), 'no unexpected error logged');
    const other = await app.gql('query A { __typename } subscription B { accessRequestUpdated { id } }', {}, token);
    assert.equal(other.status, 400, 'several operations and no operationName: refused as before');
    const query = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query A { __typename } subscription B { accessRequestUpdated { id } }', operationName: 'A' }) });
    assert.deepEqual(await query.json(), { data: { __typename: 'Query' } }, 'the query of a document that also holds a subscription still runs');
  });
});
