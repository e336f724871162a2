import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import { guardOperation, parseLimited } from '../../src/graphql/limits.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** Raw POST of a body (already JSON). */
async function post(app: TestApp, body: string, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const json = await res.json();
  return { status: res.status, json };
}

const query = (q: string, variables?: unknown) => JSON.stringify({ query: q, variables });
const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

/** Fragment F0 spreads F1 twice, F1 spreads F2 twice, …: 864 bytes that expand to 2^n fields. */
function doublingFragments(n: number): string {
  let doc = 'query { ...F0 }';
  for (let i = 0; i < n; i++) doc += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
  return doc + ` fragment F${n} on Query { collections(first: 1) { totalCount } }`;
}

function fragmentChain(n: number): string {
  let doc = 'query { ...F0 }';
  for (let i = 0; i < n; i++) doc += ` fragment F${i} on Query { ...F${i + 1} }`;
  return doc + ` fragment F${n} on Query { __typename }`;
}

function wsClient(app: TestApp, token?: string): Client {
  return createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** Runs one operation over graphql-ws and resolves with its first result or its error. */
function overWs(client: Client, q: string): Promise<{ data?: any; errors?: any[] }> {
  return new Promise((resolve) => {
    const stop = client.subscribe({ query: q }, {
      next: (v) => { resolve(v as any); stop(); },
      error: (e) => resolve({ errors: Array.isArray(e) ? e : [e] }),
      complete: () => {},
    });
  });
}

describe('the GraphQL guard: every operation, every transport, linear in its size', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002 }); });
  after(async () => { await app?.stop(); });

  // PAYLOAD_TOO_LARGE (not a token or cost refusal) shows it was refused at the body limit, before parsing.
  it('refuses the 2,000,000-alias query (28 MB) at the body limit, before parsing it', async () => {
    const res = await post(app, query(`{ ${aliases(2_000_000, '__typename')} }`));
    assert.equal(res.status, 413);
    assert.equal(res.json.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a 5 MB JSON body with 413 before reading it', async () => {
    const res = await post(app, JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(5 * 1024 * 1024) } }));
    assert.equal(res.status, 413);
    assert.equal(res.json.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a document of too many tokens (45,000 aliases, just under the body limit) while parsing it', async () => {
    const body = query(`{ ${aliases(45_000, '__typename')} }`);
    assert.ok(body.length < 1024 * 1024);
    const res = await post(app, body);
    assert.equal(res.status, 400);
    assert.equal(res.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    assert.match(res.json.errors[0].message, /tokens/);
  });

  it('refuses 5,000 aliases with a coded 400, not a 500', async () => {
    const res = await post(app, query(`{ ${aliases(5_000, '__typename')} }`));
    assert.equal(res.status, 400);
    assert.equal(res.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
  });

  it('measures each fragment once: 22 fragments spreading the next twice (4 million fields) are refused by cost, not expanded', async () => {
    const doc = doublingFragments(22);
    assert.ok(doc.length < 1000);
    const res = await post(app, query(doc));
    assert.equal(res.status, 400);
    assert.equal(res.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
  });

  it('refuses a chain of 3,000 fragments with a coded 400, and walks one without recursion', async () => {
    const res = await post(app, query(fragmentChain(3_000)));
    assert.equal(res.status, 400);
    assert.equal(res.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    // With the token limit lifted, the guard itself still walks 30,000 chained fragments (no stack overflow).
    const limits = { ...loadConfig().limits, maxTokens: 10_000_000 };
    const schema = await buildObiaSchema();
    const stats = guardOperation(schema, parseLimited(fragmentChain(30_000), limits), limits);
    assert.equal(stats.depth, 0);
  });

  it('refuses a document nested 2,000 deep — selections, list values, object values, list types — with a coded 400, before the parser recurses into it', async () => {
    const nestings = {
      selections: `{ ${'a { '.repeat(2_000)}b${' }'.repeat(2_000)} }`,
      'list values': `{ collections(filter: { text: ${'['.repeat(2_000)}"x"${']'.repeat(2_000)} }, first: 1) { totalCount } }`,
      'object values': `{ collections(filter: ${'{ a: '.repeat(2_000)}1${' }'.repeat(2_000)}, first: 1) { totalCount } }`,
      'list types': `query($v: ${'['.repeat(2_000)}String${']'.repeat(2_000)}) { __typename }`,
    };
    for (const [what, document] of Object.entries(nestings)) {
      const res = await post(app, query(document));
      assert.equal(res.status, 400, what);
      assert.equal(res.json.errors[0].extensions.code, 'QUERY_TOO_DEEP', what);
    }
    // An ordinary deep argument is not nesting: it is answered (or refused for its meaning).
    const ok = await post(app, query('{ collections(filter: { text: "x" }, first: 1) { totalCount } }'));
    assert.equal(ok.json.errors?.[0]?.extensions?.code === 'QUERY_TOO_DEEP', false);
  });

  it('refuses a fragment that spreads itself before validation', async () => {
    const res = await post(app, query('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'));
    assert.equal(res.status, 400);
    assert.equal(res.json.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('costs every root field: 3,300 aliased statistics, and 45 within the alias limit, are refused', async () => {
    const many = await post(app, query(`{ ${aliases(3_300, 'statistics { total { images } }')} }`));
    assert.equal(many.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    const some = await post(app, query(`{ ${aliases(45, 'statistics { total { images } }')} }`));
    assert.equal(some.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    assert.match(some.json.errors[0].message, /complexity/);
    const one = await post(app, query('{ statistics { total { images } } }'));
    assert.equal(one.json.errors, undefined);
  });

  it('costs similarImages: 2,000 aliases, and 20 within the alias limit, are refused', async () => {
    const field = 'similarImages(image: { uid: "1.2.3" }, k: 30) { distance }';
    assert.equal((await post(app, query(`{ ${aliases(2_000, field)} }`))).json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    assert.equal((await post(app, query(`{ ${aliases(20, field)} }`))).json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
  });

  it('costs _entities by its representations: 10,000 series asking for their images are refused, 20 are answered', async () => {
    // An archive without a gateway secret answers _entities to anyone; with one, the gateway forwards what its clients ask.
    const [{ uid }] = await (app.orm.em as EntityManager).getKnex()('series').select('uid').limit(1);
    const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Series { uid images(first: 100) { edges { node { uid } } } } } }';
    const reps = (n: number) => ({ r: Array.from({ length: n }, () => ({ __typename: 'Series', uid })) });
    const many = await post(app, query(entities, reps(10_000)));
    assert.equal(many.status, 400);
    assert.equal(many.json.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    assert.ok(JSON.stringify(many.json).length < 1024, 'refused before any entity is resolved');
    const few = await post(app, query(entities, reps(20)));
    assert.equal(few.json.errors, undefined, JSON.stringify(few.json.errors));
    assert.equal(few.json.data._entities.length, 20);
    assert.equal(few.json.data._entities[0].uid, uid);
  });

  it('refuses oversized filters and ids as BAD_USER_INPUT without echoing them', async () => {
    const keyword = 'k'.repeat(500_000);
    const big = await post(app, query('query($f: BrowseFilterInput) { collections(filter: $f) { totalCount } }', { f: { keyword } }));
    assert.equal(big.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.ok(!JSON.stringify(big.json).includes('kkkkkkkk'));
    const modalities = await post(app, query('query($f: BrowseFilterInput) { statistics(filter: $f) { total { series } } }', { f: { modality: Array(40_000).fill('CT') } }));
    assert.equal(modalities.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    const uid = '1.'.repeat(20_000) + '1';
    const id = await post(app, query('query($u: String!) { series(uid: $u) { uid } }', { u: uid }));
    assert.equal(id.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.ok(!JSON.stringify(id.json).includes('1.1.1.1.1.1.1.1'));
  });

  it('bounds every text an argument carries: a 300,000-character title and a 5,000-character note are refused, a long description and a clinical CSV are not', async () => {
    const submitter = await app.token('guard-submitter', Role.SUBMITTER);
    const create = 'mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }';
    const huge = await post(app, query(create, { i: { title: 't'.repeat(300_000), disease: 'ovarian cancer' } }), submitter);
    assert.equal(huge.status, 400);
    assert.equal(huge.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.equal(huge.json.errors[0].extensions.argument, 'input.title');
    assert.ok(!JSON.stringify(huge.json).includes('tttttttt'), 'the value is not echoed');
    // Under the guard's bound, over the service's: a title is at most 300 characters, and at most 50 keywords.
    const long = await post(app, query(create, { i: { title: 't'.repeat(301), disease: 'ovarian cancer' } }), submitter);
    assert.equal(long.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    const keywords = await post(app, query(create, { i: { title: 'Guard', disease: 'ovarian cancer', keywords: Array.from({ length: 51 }, (_, i) => `k${i}`) } }), submitter);
    assert.equal(keywords.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    const note = await post(app, query('mutation($n: String!) { reviewSeries(uid: "1.2.3", verdict: PASS, note: $n) { verdict } }', { n: 'n'.repeat(5_000) }));
    assert.equal(note.json.errors[0].extensions.code, 'BAD_USER_INPUT');
    // The arguments that carry documents get their own bounds: an access request's purpose, a collection's description, a clinical CSV.
    // OBIA0002 is a controlled collection of the seeded archive: the request is made, purpose and all.
    const purpose = await post(app, query('mutation($i: AccessRequestInput!) { requestAccess(collection: "OBIA0002", input: $i) { id } }',
      { i: { purpose: 'p'.repeat(4_500), scopeOfUse: 'analysis', institution: 'Guard University', pledgeNotToReidentify: true } }), await app.token('guard-researcher', Role.RESEARCHER));
    assert.equal(purpose.json.errors, undefined, JSON.stringify(purpose.json.errors));
    assert.ok(purpose.json.data.requestAccess.id);
    const described = await post(app, query(create, { i: { title: 'Guard', disease: 'ovarian cancer', description: 'd'.repeat(15_000) } }), submitter);
    assert.equal(described.json.errors, undefined, JSON.stringify(described.json.errors));
    const id = described.json.data.createSubmission.id;
    const csv = 'local_patient_id,age\n' + Array.from({ length: 2_000 }, (_, i) => `GUARD-${i},40`).join('\n');
    assert.ok(csv.length > 20_000);
    const clinical = await post(app, query('mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }', { s: id, c: csv }), submitter);
    assert.equal(clinical.json.errors, undefined, JSON.stringify(clinical.json.errors));
    assert.equal(clinical.json.data.addClinicalDataCsv, 2_000, 'every record of the CSV is taken');
  });

  it('refuses argument text that is no text — a NUL, a lone surrogate — as GraphQL refuses it in a query literal; emoji and right-to-left text pass', async () => {
    const submitter = await app.token('guard-submitter', Role.SUBMITTER);
    const create = 'mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id title } }';
    // JSON.stringify writes a lone surrogate as an escape (\ud800), which the hub's JSON.parse turns back into one.
    for (const [title, where] of [['a\u0000b', 'input.title'], ['\ud800tail', 'input.title']] as const) {
      const res = await post(app, query(create, { i: { title, disease: 'ovarian cancer' } }), submitter);
      assert.equal(res.status, 400);
      assert.equal(res.json.errors[0].extensions.code, 'BAD_USER_INPUT', JSON.stringify(res.json.errors));
      assert.equal(res.json.errors[0].extensions.argument, where);
    }
    const keyword = await post(app, query(create, { i: { title: 'Keywords', disease: 'ovarian cancer', keywords: ['ok', 'x\udc00'] } }), submitter);
    assert.equal(keyword.json.errors[0].extensions.argument, 'input.keywords');
    const fine = await post(app, query(create, { i: { title: 'Imaging 🧠 \u202eرأس', disease: 'glioma' } }), submitter);
    assert.equal(fine.json.errors, undefined, JSON.stringify(fine.json.errors));
    assert.equal(fine.json.data.createSubmission.title, 'Imaging 🧠 \u202eرأس');
    const client = wsClient(app, submitter);
    try {
      const overSocket = await overWs(client, 'mutation { createSubmission(input: { title: "x\\u0000", disease: "d" }) { id } }');
      assert.equal(overSocket.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    } finally {
      await client.dispose();
    }
  });

  it('still answers an ordinary request after all of that', async () => {
    const res = await app.gql('{ collections(first: 2) { totalCount } }');
    assert.equal(res.errors, undefined);
    assert.ok(res.data.collections.totalCount > 0);
  });

  describe('over graphql-ws', () => {
    it('applies the same depth, complexity and fragment limits as HTTP', async () => {
      const client = wsClient(app);
      try {
        const deep = `{ study(accession: "S00000001") ${'{ series { study '.repeat(10)}{ accession }${' } }'.repeat(10)} }`;
        assert.equal((await overWs(client, deep)).errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
        const wide = `{ collections(first: 500) { edges { node { individuals(first: 500) { edges { node { studies { series { images(first: 500) { edges { node { uid } } } } } } } } } } } }`;
        assert.equal((await overWs(client, wide)).errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
        assert.equal((await overWs(client, doublingFragments(22))).errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
        assert.equal((await overWs(client, `{ series(uid: "${'1'.repeat(5_000)}") { uid } }`)).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
        // Nested past the parser's stack: refused, and the connection stays open (it was closed with the RangeError's message).
        assert.equal((await overWs(client, `{ ${'a { '.repeat(3_000)}b${' }'.repeat(3_000)} }`)).errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
        const ok = await overWs(client, '{ collections(first: 1) { totalCount } }');
        assert.equal(ok.errors, undefined);
      } finally {
        await client.dispose();
      }
    });

    it('bounds live subscriptions per connection', async () => {
      const token = await app.token('subscriber', Role.RESEARCHER);
      const client = wsClient(app, token);
      const limit = loadConfig().limits.subscriptionsPerConnection;
      const refused: any[] = [];
      const stops: (() => void)[] = [];
      try {
        for (let i = 0; i < limit + 5; i++) {
          stops.push(client.subscribe({ query: 'subscription { accessRequestUpdated { id } }' }, {
            next: () => {}, error: (e) => refused.push(e), complete: () => {},
          }));
        }
        const ok = await overWs(client, '{ __typename }'); // a round trip: every subscribe above has been answered
        assert.equal(ok.errors?.[0]?.extensions?.code, 'TOO_MANY_SUBSCRIPTIONS');
        assert.equal(refused.length, 5);
        assert.ok(refused.every((e) => e[0]?.extensions?.code === 'TOO_MANY_SUBSCRIPTIONS'));
        // Ending one frees its place (once the server has wound its iterator down: a round trip or two).
        stops[0]!();
        let after = await overWs(client, '{ __typename }');
        for (let i = 0; i < 20 && after.errors; i++) after = await overWs(client, '{ __typename }');
        assert.equal(after.errors, undefined);
      } finally {
        for (const stop of stops) stop();
        await client.dispose();
      }
    });
  });
});
