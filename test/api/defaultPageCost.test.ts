// Regression: the query guard priced a connection asked without `first` as one item, though it
// answers the schema's default of 20: two nested connections were priced 16 for 400 rows, and a
// deeper one (collections → individuals → studies → series → images, no `first` anywhere) a few
// hundred for some 800,000 rows' worth, passing a bound of 250,000 fifty times over per alias.
// The default is now priced as what the field answers, on every transport.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import { guardOperation } from '../../src/graphql/limits.js';
import { startTestApp, type TestApp } from '../support/app.js';

const DEEP = '{ collections { edges { node { individuals { edges { node { studies { seriesList { images { edges { node { uid } } } } } } } } } } } }';
const SMALL = '{ collections(first: 2) { edges { node { individuals(first: 2) { edges { node { studies { seriesList { images(first: 2) { edges { node { uid } } } } } } } } } } } }';

describe('a page size left to its default is priced as the default', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002 }); });
  after(async () => { await app?.stop(); });

  it('the guard prices `first` and `k` left out, or left to a missing variable, as the schema defaults (20, 30)', async () => {
    const schema = await buildObiaSchema();
    const limits = { maxTokens: 10_000, maxDepth: 16, maxComplexity: Number.MAX_SAFE_INTEGER, maxAliases: 50, maxDirectives: 50 };
    const cost = (q: string, v: Record<string, unknown> = {}) => guardOperation(schema, parse(q), limits, v).cost;
    assert.equal(cost('{ seriesList { edges { node { images { edges { node { uid } } } } } } }'),
      cost('{ seriesList(first: 20) { edges { node { images(first: 20) { edges { node { uid } } } } } } }'));
    assert.equal(cost('query($f: Int) { studies(first: $f) { edges { node { accession } } } }'), cost('{ studies(first: 20) { edges { node { accession } } } }'));
    assert.equal(cost('{ similarImages(image: {uid: "1.2"}) { distance } }'), cost('{ similarImages(image: {uid: "1.2"}, k: 30) { distance } }'));
    assert.ok(cost(DEEP) > 250_000, `the deep query costs ${cost(DEEP)}`);
  });

  async function overGet(query: string): Promise<any> {
    return (await fetch(`${app.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': '1' } })).json();
  }
  async function overWs(query: string): Promise<any> {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      return await new Promise((resolve, reject) => {
        let last: unknown;
        // An operation refused before it runs arrives as graphql-ws's error message: its GraphQL errors.
        client.subscribe({ query }, { next: (v) => { last = v; }, error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)), complete: () => resolve(last) });
      });
    } finally {
      await client.dispose();
    }
  }

  it('over HTTP POST, GET and graphql-ws the deep default query is QUERY_TOO_COMPLEX before any statement; with small pages it runs', async () => {
    for (const [transport, send] of [['POST', (q: string) => app.gql(q)], ['GET', overGet], ['graphql-ws', overWs]] as const) {
      let res: any;
      const statements = await app.countQueries(async () => { res = await send(DEEP); });
      assert.equal(res.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX', `${transport}: ${JSON.stringify(res).slice(0, 200)}`);
      assert.equal(res.data ?? null, null);
      assert.equal(statements, 0, `${transport}: nothing read`);
      const small: any = await send(SMALL);
      assert.equal(small.errors, undefined, `${transport}: ${JSON.stringify(small.errors)}`);
      assert.ok(small.data.collections.edges.length > 0);
    }
  });
});
