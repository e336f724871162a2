// Regression: a cursor was read leniently: base64url decoding skips what is not base64 and
// Number() reads '', ' ', '0x10' and '1e308', so forged or mangled cursors (`study:1e308`,
// `study:0x10`, `study:1:2`) were taken as some other position, `study:1e308` an empty page with
// hasPreviousPage, instead of being refused. Only the exact text the list wrote is a cursor now,
// on every transport (HTTP POST and GET, graphql-ws), and anything else is BAD_USER_INPUT.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app.js';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const PAGE = 'query($a: String) { studies(first: 2, after: $a) { pageInfo { hasNextPage endCursor } edges { node { accession } } } }';

describe('a cursor is only what the list wrote; forged and mangled ones are BAD_USER_INPUT', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002 }); });
  after(async () => { await app?.stop(); });

  const forged = ['study:1e308', 'study:0x10', 'study: ', 'study:', 'study:1:2', 'study:01', 'study:-0', 'study:1.0', 'study:99999999999999999999', 'study:5e-324'].map(b64);
  const mangled = (good: string) => [`${good}=`, `${good}!!`, ` ${good}`, `${good}\n`, good.replace(/./, (c) => (c === 'c' ? 'd' : 'c')), 'x'.repeat(3000)];

  async function overGet(variables: Record<string, unknown>): Promise<any> {
    const res = await fetch(`${app.url}/graphql?query=${encodeURIComponent(PAGE)}&variables=${encodeURIComponent(JSON.stringify(variables))}`, { headers: { 'apollo-require-preflight': '1' } });
    return res.json();
  }

  async function overWs(variables: Record<string, unknown>): Promise<any> {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      return await new Promise((resolve, reject) => {
        let last: unknown;
        client.subscribe({ query: PAGE, variables }, { next: (v) => { last = v; }, error: reject, complete: () => resolve(last) });
      });
    } finally {
      await client.dispose();
    }
  }

  it('the cursor a page ends with still pages on', async () => {
    const first = await app.gql(PAGE, {});
    assert.equal(first.errors, undefined);
    const cursor = first.data.studies.pageInfo.endCursor;
    const second = await app.gql(PAGE, { a: cursor });
    assert.equal(second.errors, undefined, JSON.stringify(second.errors));
    assert.notDeepEqual(second.data.studies.edges, first.data.studies.edges);
  });

  it('over HTTP POST, GET and graphql-ws, every forged or mangled cursor is refused', async () => {
    const good = (await app.gql(PAGE, {})).data.studies.pageInfo.endCursor;
    for (const a of [...forged, ...mangled(good)]) {
      for (const [transport, send] of [['POST', (v: any) => app.gql(PAGE, v)], ['GET', overGet], ['graphql-ws', overWs]] as const) {
        const res: any = await send({ a });
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${transport} ${JSON.stringify(a).slice(0, 40)}: ${JSON.stringify(res).slice(0, 200)}`);
        assert.equal(res.data?.studies ?? null, null);
      }
    }
  });

  it('nested lists decode the same way', async () => {
    const res = await app.gql('query($a: String) { collections(first: 1) { edges { node { individuals(after: $a) { totalCount } } } } }', { a: b64('individual:1e308') });
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});
