// Regressions at the gateway (federation/gateway/gateway.ts), which had none of the hub's guard:
// - a subgraph that accepted the connection and never answered held each request that touched it
//   until undici's 5-minute header timeout, then answered INTERNAL_SERVER_ERROR;
// - no limits: 20,000 aliases (0.5 CPU-s) or 200 aliased inline introspections (40 KB in, 1.2 CPU-s
//   and 12 MB out) ran at the gateway, the hub seeing only what the plan asked of it;
// - error responses carried stack traces naming the gateway's files.
// The reference subgraphs (BioProject, GSA-Human), which answer whoever reaches their ports, had
// the same gaps and now share the same options (federation/guard.ts).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { composeSupergraph } from '../../federation/composition.js';
import { startGateway } from '../../federation/gateway/gateway.js';
import { startBioProjectSubgraph } from '../../federation/bioproject/server.js';
import type { RunningSubgraph } from '../../federation/bioproject/server.js';
import { noDatabase } from '../support/once.js';

noDatabase('the gateway alone, over subgraphs that never answer');

describe('the gateway bounds what one request may cost it', () => {
  let gateway: RunningSubgraph;
  const sockets = new Set<Socket>();
  const silent = http.createServer(() => { /* accepts, never answers */ });
  silent.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  before(async () => {
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    gateway = await startGateway({ port: 0, host: '127.0.0.1', supergraphSdl: await composeSupergraph(), urls: { hub: `${url}graphql`, bioproject: url, 'gsa-human': url }, subgraphTimeoutMs: 50 });
  });
  after(async () => {
    await gateway?.stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  const post = async (query: string) => {
    const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return { status: res.status, body: await res.json() as any };
  };

  it('answers SERVICE_UNAVAILABLE when a subgraph does not answer in time', async () => {
    const { body } = await post('{ bioProject(accession: "PRJCA000001") { accession } }');
    assert.equal(body.errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
    assert.equal(body.data.bioProject, null);
  });

  it("applies the hub's guard: aliases and inline introspection over the limits are QUERY_TOO_COMPLEX", async () => {
    const aliases = await post(`{ ${Array.from({ length: 60 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    assert.equal(aliases.status, 400);
    assert.equal(aliases.body.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    const sel = 'types { name fields { name args { name type { name ofType { name } } } type { name ofType { name } } } }';
    const intro = await post(`{ ${Array.from({ length: 45 }, (_, i) => `a${i}: __schema { ${sel} }`).join(' ')} }`);
    assert.equal(intro.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(intro.body.data, undefined);
  });

  it('sends no stack traces', async () => {
    const { status, body } = await post('{ nope }');
    assert.equal(status, 400);
    assert.equal(body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(body.errors[0].extensions.stacktrace, undefined);
  });
});

describe('a reference subgraph bounds what one request may cost it', () => {
  let subgraph: RunningSubgraph;
  before(async () => { subgraph = await startBioProjectSubgraph({ port: 0, host: '127.0.0.1' }); });
  after(async () => { await subgraph?.stop(); });

  it("applies the hub's guard, _entities priced per representation, and sends no stack traces", async () => {
    const post = async (query: string, variables?: Record<string, unknown>) => {
      const res = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, body: await res.json() as any };
    };
    const aliases = await post(`{ ${Array.from({ length: 60 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    assert.equal(aliases.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    const reps = Array.from({ length: 30_000 }, (_, i) => ({ __typename: 'BioProject', accession: `PRJCA${String(i).padStart(6, '0')}` }));
    const many = await post('query ($r: [_Any!]!) { _entities(representations: $r) { ... on BioProject { accession title grants { agency number } } } }', { r: reps });
    assert.equal(many.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    const invalid = await post('{ nope }');
    assert.equal(invalid.body.errors[0].extensions.stacktrace, undefined);
    const ok = await post('query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: reps.slice(0, 100) });
    assert.equal(ok.body.errors, undefined, 'a gateway-sized fetch still runs');
  });
});
