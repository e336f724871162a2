// Regression: credentials that are ambiguous or malformed were not refused on every transport.
// Over HTTP, two Authorization headers: Node kept the first and dropped the other silently (a proxy
// in front may have checked the other). Over graphql-ws, connectionParams.authorization that is no
// string (an object, a number) made the connection anonymous, as no credential at all: the client
// believed it was signed in; a 600 KB "token" there was decoded and parsed. All are now
// UNAUTHENTICATED (HTTP 401; graphql-ws closes 4403).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import type { TokenVerifier } from '../../src/auth/verifier.js';
import { authenticator, MAX_CREDENTIAL_LENGTH } from '../../src/http/authenticate.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('how the one authenticate step reads credentials off each transport; no stored data is read');

function postTwice(url: string, authorizations: string[]): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ query: '{ viewer { id } }' });
  // Headers as a raw list, the only way to send one name twice (Node then adds no Host of its own).
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/graphql`, { method: 'POST', headers: ['host', new URL(url).host, 'content-type', 'application/json', ...authorizations.flatMap((a) => ['authorization', a])] }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function connect(url: string, payload: unknown): Promise<{ code: number; acked: boolean }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  let acked = false;
  ws.on('message', (m) => {
    if (JSON.parse(String(m)).type === 'connection_ack') { acked = true; ws.close(1000); }
  });
  ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload })));
  return new Promise((resolve) => ws.once('close', (code: number) => resolve({ code, acked })));
}

describe('ambiguous or malformed credentials are refused on every transport', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await app.token('two-headers', Role.RESEARCHER);
  });
  after(async () => { await app?.stop(); });

  it('HTTP: two Authorization headers are 401, even two copies of one; one is signed in', async () => {
    for (const pair of [[`Bearer ${token}`, 'Bearer forged'], ['Bearer forged', `Bearer ${token}`], [`Bearer ${token}`, `Bearer ${token}`]]) {
      const res = await postTwice(app.url, pair);
      assert.equal(res.status, 401);
      assert.equal(res.body.errors[0].extensions.code, 'UNAUTHENTICATED');
      assert.equal(res.body.data, undefined);
    }
    const one = await postTwice(app.url, [`Bearer ${token}`]);
    assert.equal(one.status, 200);
    assert.equal(one.body.data.viewer.id, 'two-headers');
  });

  it('graphql-ws: an authorization that is no string, or two that differ, close the connection 4403', async () => {
    for (const payload of [{ authorization: { token } }, { authorization: 42 }, { Authorization: [`Bearer ${token}`] }, { authorization: `Bearer ${token}`, Authorization: 'Bearer forged' }]) {
      const { code, acked } = await connect(app.url, payload);
      assert.equal(acked, false, JSON.stringify(payload).slice(0, 40));
      assert.equal(code, 4403);
    }
    // Longer than HTTP could carry (Node's 16 KiB of headers): refused before it is decoded.
    assert.deepEqual(await connect(app.url, { authorization: `Bearer ${'a'.repeat(600_000)}.${'b'.repeat(100)}.c` }), { code: 4403, acked: false });
    assert.deepEqual(await connect(app.url, { authorization: `Bearer ${token}` }), { code: 1000, acked: true });
    assert.deepEqual(await connect(app.url, {}), { code: 1000, acked: true }, 'no credential at all is anonymous');
  });

  it('a credential longer than HTTP could carry is refused before the verifier sees it', async () => {
    let verified = 0;
    const authenticate = authenticator({ principalFrom: async () => { verified++; return null; } } as unknown as TokenVerifier);
    const long = `Bearer ${'a'.repeat(MAX_CREDENTIAL_LENGTH)}`;
    await assert.rejects(authenticate({ connectionParams: { authorization: long } }), (err: any) => err?.extensions?.code === 'UNAUTHENTICATED');
    await assert.rejects(authenticate({ headers: { authorization: long } }), (err: any) => err?.extensions?.code === 'UNAUTHENTICATED');
    assert.equal(verified, 0);
    await authenticate({ connectionParams: { authorization: 'Bearer a.b.c' } });
    assert.equal(verified, 1);
  });
});
