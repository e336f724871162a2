// Every root field of the API, queries and mutations, called with seeded hostile arguments by an
// anonymous caller, a researcher, a submitter and a curator: whatever the arguments, the answer
// is data or a typed error (a GraphQL code other than INTERNAL_SERVER_ERROR, or an HTTP refusal
// with a JSON body), never an unexpected error, and the server answers the next request. The
// arguments are built from the checked-in schema (schema/obia.graphql), so a field added later
// is fuzzed without a line here; ids are mixed with real ones so that calls get past lookups.
import {
  buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType, isUnionType,
  type GraphQLField, type GraphQLInputType, type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../support/app.js';
import { fuzzArchive } from '../support/fuzzArchive.js';
import { withSeed, type Random } from '../support/random.js';
import WebSocket from 'ws';

const CALLS_PER_FIELD = Number(process.env.OBIA_FUZZ_CALLS) || 12;
/** Fields whose work is a long job by design (ingest runs, releases); fuzzed for their arguments, answered at once. */
/** A fixed campaign in CI (the same calls every run, as test/dicom/fuzz pins its seeds); OBIA_TEST_SEED explores others. */
const SEED = Number(process.env.OBIA_TEST_SEED) || 20261204;
const pick = <T>(random: Random, xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!;

/** Strings a hostile caller sends: empty, huge, control characters, injection, lookalikes, other scripts. */
const HOSTILE_STRINGS = [
  '', ' ', 'a'.repeat(70_000), '\u0000', 'x\u0000y', '\r\n\tinjected: line', '\u202e\u200b\ufeff', '😀'.repeat(300), '%', '_', '\\', "' OR '1'='1", '"; DROP TABLE image; --',
  '../../etc/passwd', '<script>alert(1)</script>', '${jndi:ldap://x}', '*', '?', 'null', 'undefined', 'NaN', '-1', '0', '1e309', '9'.repeat(40), '0x7fffffff',
  '1.2.840.10008.1.2', '1.' + '2.'.repeat(40) + '3', 'PRJCA000001', 'OBIA-C000001', '2026-02-30', '1900-01-01T00:00:00Z', '9999-12-31', 'Doe^John', 'Ω≈ç√∫',
];
const HOSTILE_INTS = [0, -1, 1, 2, 100, 101, 1000, 2 ** 31 - 1, -(2 ** 31), 65_536];
/** Half the values are ordinary, so that a call gets past its first check to the code behind it. */
const PLAIN_STRINGS = ['fuzz', 'ovarian cancer', 'CT', 'MR', 'Lung', 'A study of things', 'PRJNA123456', 'HRA000001', 'fuzz-researcher', 'research on lungs'];
const PLAIN_INTS = [1, 2, 5, 10, 20, 50];
const HOSTILE_FLOATS = [0, -0.5, 1e308, -1e308, 3.5, 1e-320];

interface Ids { [kind: string]: string[] }

function valueFor(random: Random, type: GraphQLInputType, ids: Ids, argName: string, depth = 0): unknown {
  if (isNonNullType(type)) return valueFor(random, type.ofType as GraphQLInputType, ids, argName, depth);
  // Optional arguments are sometimes left out (null): the resolver's defaults must hold too.
  if (random.next() < 0.15) return null;
  if (isListType(type)) {
    const n = pick(random, [0, 1, 2, 3, 1000]);
    return Array.from({ length: n }, () => valueFor(random, type.ofType as GraphQLInputType, ids, argName, depth + 1) ?? valueFor(random, type.ofType as GraphQLInputType, ids, argName, depth + 1));
  }
  if (isEnumType(type)) return pick(random, type.getValues()).name;
  if (isInputObjectType(type)) {
    if (depth > 4) return {};
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      if (isNonNullType(f.type) || random.next() < 0.6) {
        const v = valueFor(random, f.type, ids, f.name, depth + 1);
        if (v !== null || !isNonNullType(f.type)) out[f.name] = v;
        else out[f.name] = valueFor(random, (f.type as any).ofType, ids, f.name, depth + 1) ?? 'x';
      }
    }
    return out;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int': return random.next() < 0.5 ? pick(random, PLAIN_INTS) : pick(random, HOSTILE_INTS);
      case 'Float': return pick(random, HOSTILE_FLOATS);
      case 'Boolean': return random.next() < 0.5;
      case 'ID': {
        const real = ids[argName.toLowerCase()] ?? Object.values(ids).flat();
        return random.next() < 0.6 && real.length ? pick(random, real) : pick(random, HOSTILE_STRINGS.slice(0, 26));
      }
      case 'DateTime': case 'DateTimeISO': case 'Date': return pick(random, ['2030-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z']);
      case 'Upload': return null;
      default: {
        // Free text, accessions and UIDs: sometimes a real identifier, so the call gets past its lookup.
        const real = ids[argName.toLowerCase()] ?? Object.values(ids).flat();
        const r = random.next();
        return r < 0.3 && real.length ? pick(random, real) : r < 0.6 ? pick(random, PLAIN_STRINGS) : pick(random, HOSTILE_STRINGS);
      }
    }
  }
  return null;
}

/** A shallow selection: the scalar fields of the result and the ids of what it links to. */
function selection(type: GraphQLObjectType, depth = 0): string {
  const parts: string[] = ['__typename'];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(f.type);
    if (isScalarType(named) || isEnumType(named)) parts.push(f.name);
    else if (isObjectType(named) && depth < 1) parts.push(`${f.name} { ${selection(named, depth + 1)} }`);
  }
  return parts.join(' ');
}

function operation(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const vars = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const named = getNamedType(field.type);
  const sel = isObjectType(named) ? `{ ${selection(named)} }`
    // A union's members share field names with other types: their selections would conflict.
    : isUnionType(named) ? '{ __typename }' : '';
  return `${kind} Fuzz${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''} ${sel} }`;
}

describe('every query and mutation, given hostile arguments, answers data or a typed error', () => {
  let app: TestApp;
  let schema: GraphQLSchema;
  let callers: [string, string | null][];
  const ids: Ids = {};
  before(async () => {
    let real: Ids;
    ({ app, callers, ids: real } = await fuzzArchive());
    schema = buildSchema(fs.readFileSync(path.resolve(process.cwd(), 'schema/obia.graphql'), 'utf8'), { assumeValidSDL: true });
    // By argument name, as the schema names them (`accession`, `uid`, `id` …).
    Object.assign(ids, real, {
      accession: real.collection, uid: real.image,
      id: [...real.submission!, '1', ...real.collection!, ...real.series!, ...real.study!],
    });
  });
  after(async () => app?.stop());

  type Answer = { status: number; body: any; unreadable?: undefined } | { unreadable: string; status?: undefined };
  type Transport = (query: string, variables: Record<string, unknown>, token: string | null) => Promise<Answer>;

  /** One campaign: every root field, CALLS_PER_FIELD seeded calls each, through `send`. */
  async function campaign(random: Random, send: Transport, calls = CALLS_PER_FIELD): Promise<{ failures: string[]; total: number }> {
    const failures: string[] = [];
    const seen = new Map<string, number>();
    let total = 0;
    for (const [kind, root] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
      for (const field of Object.values(root!.getFields())) {
        const query = operation(kind, field);
        for (let i = 0; i < calls; i++) {
          const [who, token] = pick(random, callers);
          const variables = Object.fromEntries(field.args.map((a) => [a.name, valueFor(random, a.type, ids, a.name)]));
          const answer = await send(query, variables, token);
          total++;
          if ('unreadable' in answer) { failures.push(`${field.name} as ${who}: ${answer.unreadable} — variables ${JSON.stringify(variables).slice(0, 300)}`); continue; }
          const { status, body } = answer;
          const codes: string[] = (body.errors ?? []).map((e: any) => e.extensions?.code ?? 'NO_CODE');
          for (const c of codes.length ? codes : ['DATA']) seen.set(`${field.name} ${c}`, (seen.get(`${field.name} ${c}`) ?? 0) + 1);
          if ((status >= 500 && status !== 503) || codes.some((c) => c === 'INTERNAL_SERVER_ERROR' || c === 'NO_CODE')) {
            failures.push(`${field.name} as ${who}: HTTP ${status} ${codes.join(',')} ${JSON.stringify(body.errors?.[0]?.message ?? '').slice(0, 200)} — variables ${JSON.stringify(variables).slice(0, 300)}`);
          }
        }
      }
    }
    if (process.env.OBIA_FUZZ_REPORT) console.log([...seen].sort().map(([k, n]) => `${k} ${n}`).join('\n'));
    return { failures, total };
  }

  it('over HTTP POST, for every caller, with seeded arguments', () => withSeed(async (random) => {
    const { failures, total } = await campaign(random, async (query, variables, token) => {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      try { return { status: res.status, body: JSON.parse(text) }; } catch { return { unreadable: `HTTP ${res.status}, not JSON: ${text.slice(0, 120)}` }; }
    });
    assert.equal((await fetch(`${app.url}/health`)).status, 200, 'the server still answers');
    assert.ok(total > 100, `${total} calls`);
    assert.deepEqual(failures, [], `${failures.length} of ${total} calls ended in an unexpected error:\n${failures.slice(0, 20).join('\n')}`);
  }, SEED));

  it('over graphql-ws (the other transport: the same guard, the same typed errors)', () => withSeed(async (random) => {
    // One connection per caller, as a browser holds one, kept open between operations (a lazy client
    // closes an idle socket at once, and an operation begun as it closes is completed unanswered by
    // the client itself); an operation's answer is its first result or its error.
    const clients = new Map<string | null, Client>();
    const clientFor = (token: string | null) => {
      let client = clients.get(token);
      if (!client) {
        client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, lazyCloseTimeout: 60_000, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
        clients.set(token, client);
      }
      return client;
    };
    try {
      const { failures, total } = await campaign(random, (query, variables, token) => new Promise<Answer>((resolve) => {
        let settled = false;
        const settle = (a: Answer) => {
          if (settled) return;
          settled = true;
          // A connection the server closed is done with: the next operation opens a new one.
          if (a.status === 413) { const dead = clients.get(token); clients.delete(token); void dead?.dispose(); }
          resolve(a);
        };
        const stop = clientFor(token).subscribe({ query, variables }, {
          next: (result) => { settle({ status: 200, body: result }); stop(); },
          // graphql-ws hands validation and guard refusals to `error` as an array of GraphQL errors; a closed socket as a CloseEvent.
          // A message over the bound closes the socket with 1009 (RFC 6455 "message too big"), the transport's 413.
          error: (err) => settle(Array.isArray(err) ? { status: 200, body: { errors: err } }
            : (err as any)?.code === 1009 ? { status: 413, body: { errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] } }
              : { unreadable: `the connection failed: ${(err as any)?.code ?? ''} ${(err as any)?.reason ?? String(err)}` }),
          complete: () => settle({ unreadable: 'completed without a result' }),
        });
      }), Math.max(3, Math.ceil(CALLS_PER_FIELD / 3)));
      assert.ok(total > 50, `${total} calls`);
      assert.deepEqual(failures, [], `${failures.length} of ${total} calls ended in an unexpected error:\n${failures.slice(0, 20).join('\n')}`);
    } finally {
      await Promise.all([...clients.values()].map((c) => c.dispose()));
    }
  }, SEED));
});
