// One answer whichever transport a client uses: GraphQL over HTTP (Apollo) and over graphql-ws
// give the same codes for the same faults, and neither lets an unexpected error's message out —
// a database error's message is its statement, and a statement's parameters are stored values.
import type { EntityManager } from '@mikro-orm/knex';
import { createClient, type Client } from 'graphql-ws';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('GraphQL errors over graphql-ws are coded and masked as over HTTP', () => {
  let app: TestApp;
  let client: Client;
  let token: string;
  before(async () => {
    app = await startTestApp({ seedScale: 0.002 });
    token = await app.token('ws-curator', Role.CURATOR);
    client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazyCloseTimeout: 60_000, connectionParams: { authorization: `Bearer ${token}` } });
  });
  after(async () => { await client?.dispose(); await app?.stop(); });

  /** The operation's first result, or the errors it was refused with. */
  const overWs = (query: string, variables: Record<string, unknown> = {}) => new Promise<{ data?: unknown; errors?: any[] }>((resolve, reject) => {
    const stop = client.subscribe<any>({ query, variables }, {
      next: (result) => { resolve(result as any); stop(); },
      error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err)),
      complete: () => undefined,
    });
  });
  const overHttp = async (query: string, variables: Record<string, unknown> = {}) => app.gql(query, variables, token) as Promise<{ data?: unknown; errors?: any[] }>;
  const codes = (r: { errors?: any[] }) => (r.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');

  it('a failure nobody expected is INTERNAL_SERVER_ERROR with no message of its own, over both, and the log keeps no statement', async () => {
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    const query = '{ collections(first: 2) { edges { node { accession } } } }';
    await knex.schema.renameTable('collection', 'collection_moved_away');
    const from = app.logs.length;
    let http; let ws;
    try {
      http = await overHttp(query);
      ws = await overWs(query);
    } finally {
      await knex.schema.renameTable('collection_moved_away', 'collection');
    }
    for (const r of [http, ws]) {
      assert.deepEqual(codes(r), ['INTERNAL_SERVER_ERROR']);
      assert.equal(r.errors![0].message, 'Internal server error');
      assert.doesNotMatch(JSON.stringify(r), /select|collection`|RELEASED/i);
    }
    const logged = app.logs.slice(from).join('\n');
    assert.match(logged, /unexpected error in a GraphQL operation/);
    assert.doesNotMatch(logged, /select|RELEASED/i, 'the log names the error by class and code, not by its statement');
  });

  it('a variable of the wrong type is BAD_USER_INPUT over both', async () => {
    const query = 'query($id: ID!) { submission(id: $id) { id } }';
    for (const r of [await overHttp(query, { id: null }), await overWs(query, { id: null }), await overWs(query, { id: { nested: 1 } })]) assert.deepEqual(codes(r), ['BAD_USER_INPUT']);
  });

  it('a field the schema lacks is GRAPHQL_VALIDATION_FAILED over both', async () => {
    for (const r of [await overHttp('{ noSuchField }'), await overWs('{ noSuchField }')]) assert.deepEqual(codes(r), ['GRAPHQL_VALIDATION_FAILED']);
  });
});
