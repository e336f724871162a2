// Every HTTP route the hub serves (read from the router itself, so a route added later is fuzzed
// without a line here), called with seeded hostile path segments, query strings, headers and
// bodies by an anonymous caller, a researcher, a submitter and a curator: the answer is never a
// server error (5xx other than a 503 that says when to come back), an error always comes as JSON
// that names what was wrong, and the server answers the next request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../support/app.js';
import { fuzzArchive } from '../support/fuzzArchive.js';
import { withSeed, type Random } from '../support/random.js';

const CALLS_PER_ROUTE = Number(process.env.OBIA_FUZZ_CALLS) || 24;
/** A fixed campaign in CI (the same calls every run, as test/dicom/fuzz pins its seeds); OBIA_TEST_SEED explores others. */
const SEED = Number(process.env.OBIA_TEST_SEED) || 20261204;
const pick = <T>(random: Random, xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!;

const SEGMENTS = [
  '..', '%2e%2e', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%00', '%ff%fe', '%E2%80%AE', 'a'.repeat(300), '1.2.3', '1.' + '2.'.repeat(40) + '3', '-1', '0', '1e999', '*', ' ', '%20',
  'null', '0x10', '1,2,3', '1,1', '99999999', '00100010', 'x.png', 'x.dcm', 'archive.zip', '%5c..%5c', 'CON', '.env', 'index.html',
];
const QUERIES = [
  '', '?limit=-1', '?limit=1e9&offset=99999999999', '?PatientName=*%25_%5c*', '?includefield=all', '?includefield=' + 'x,'.repeat(200), '?fuzzymatching=true&StudyDate=20200101-',
  '?StudyInstanceUID=' + Array.from({ length: 300 }, (_, i) => `1.2.${i}`).join(','), '?viewport=99999,99999', '?window=1,0', '?quality=1000', '?a=1&a=2&a=3', '?%00=%00',
  '?name=' + '%0A'.repeat(5) + 'x', '?expand=true', '?token=garbage',
];
const ACCEPTS = [
  undefined, '*/*', 'application/json', 'application/dicom+json', 'application/dicom; transfer-syntax=*', 'multipart/related; type="application/octet-stream"', 'image/jpeg',
  'image/png;q=0', 'garbage/;;;', 'multipart/related; type=application/dicom; transfer-syntax=1.2.3', 'text/html,' + 'x/y;q=0.1,'.repeat(100),
];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/dicom', 'application/octet-stream', 'multipart/related; type="application/dicom"; boundary=x', 'multipart/related', 'application/x-www-form-urlencoded', 'application/zip'];
const BODIES = [
  '', 'null', '[]', '"x"', '{}', '{"query":1}', '{"bulk_object_ids":[1,{},null]}', '{"passports":["a.b.c"]}', '{"user":"x","role":"admin"}', '--x\r\n\r\n--x--', '--x\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--x--',
  'PK\u0003\u0004garbage', '{"a":' + '['.repeat(200) + ']'.repeat(200) + '}', 'x'.repeat(70_000),
];

/** [method, path] of every route, from the router's own listing. */
function routesOf(app: TestApp): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of app.http.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const full = stack.join('').replace(/\/\//g, '/');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) if (method !== 'HEAD') out.push([method, full]);
  }
  return out;
}

describe('every HTTP route, given hostile input, answers without a server error, and errors as JSON', () => {
  let app: TestApp;
  let callers: [string, string | null][];
  let real: string[];
  before(async () => {
    let ids: Record<string, string[]>;
    ({ app, callers, ids } = await fuzzArchive());
    real = Object.values(ids).flat();
  });
  after(async () => app?.stop());

  it('with seeded paths, queries, headers and bodies, for every caller', () => withSeed(async (random) => {
    const routes = routesOf(app);
    assert.ok(routes.length > 20, `the router lists ${routes.length} routes`);
    const failures: string[] = [];
    let calls = 0;
    for (const [method, route] of routes) {
      for (let i = 0; i < CALLS_PER_ROUTE; i++) {
        const [who, token] = pick(random, callers);
        const url = route.replace(/:[A-Za-z_]+|\*/g, () => (random.next() < 0.4 && real.length ? pick(random, real) : pick(random, SEGMENTS))) + pick(random, QUERIES);
        const headers: Record<string, string> = {};
        if (token) headers.authorization = `Bearer ${token}`;
        const accept = pick(random, ACCEPTS);
        if (accept) headers.accept = accept;
        if (random.next() < 0.2) headers.range = pick(random, ['bytes=999999999-1', 'bytes=0-', 'bytes=-0', 'bytes=1-2,3-4,' + '5-6,'.repeat(300) + '7-8', 'items=0-1']);
        const withBody = method !== 'GET' && method !== 'OPTIONS';
        if (withBody) headers['content-type'] = pick(random, CONTENT_TYPES);
        let res;
        try {
          res = await app.http.inject({ method: method as any, url, headers, ...(withBody ? { payload: pick(random, BODIES) } : {}) });
        } catch (err) {
          failures.push(`${method} ${url.slice(0, 120)} as ${who}: the request threw ${(err as Error).message}`);
          continue;
        }
        calls++;
        const type = String(res.headers['content-type'] ?? '');
        if (res.statusCode >= 500 && !(res.statusCode === 503 && res.headers['retry-after'])) {
          failures.push(`${method} ${url.slice(0, 120)} as ${who} (${accept ?? 'no accept'}): ${res.statusCode} ${res.body.slice(0, 160)}`);
        } else if (res.statusCode >= 400 && !/json/.test(type)) {
          failures.push(`${method} ${url.slice(0, 120)} as ${who} (${accept ?? 'no accept'}): ${res.statusCode} as ${type || 'no content type'}: ${res.body.slice(0, 100)}`);
        }
      }
    }
    if (process.env.OBIA_FUZZ_REPORT) console.log(`${routes.length} routes, ${calls} calls`);
    assert.equal((await fetch(`${app.url}/health`)).status, 200, 'the server still answers');
    assert.deepEqual(failures, [], `${failures.length} of ${calls} calls:\n${failures.slice(0, 20).join('\n')}`);
  }, SEED));
});
