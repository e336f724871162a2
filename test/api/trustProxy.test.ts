// Behind a reverse proxy every client reaches the hub from the proxy's address, and what is
// bounded per anonymous caller (graphql-ws connections, query images) was bounded per that one
// address: one anonymous client holding its connections shut every other anonymous visitor out.
// OBIA_TRUST_PROXY names the proxies whose X-Forwarded-For is believed; a forwarded address from
// any other peer is ignored, so a client cannot buy itself fresh places by writing the header.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { proxyTrust } from '../../src/http/clientAddress.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('who an anonymous caller is, read from the connection and its forwarding header; the database is not involved');

const PLACES = 2;

/** A raw graphql-ws connection, initialised: 'ack', or the close code the hub answered with. */
async function connect(app: TestApp, forwardedFor: string): Promise<{ ws: WebSocket; outcome: 'ack' | number }> {
  const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers: { 'x-forwarded-for': forwardedFor } });
  const outcome = await new Promise<'ack' | number>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.once('message', (m) => resolve(JSON.parse(String(m)).type === 'connection_ack' ? 'ack' : -1));
    ws.once('close', (code) => resolve(code));
    ws.once('error', reject);
  });
  return { ws, outcome };
}

/** Opens `PLACES` connections for one client and one more for it and for another: the outcomes of the last two. */
async function fill(app: TestApp, client: string, other: string): Promise<{ sameClient: 'ack' | number; otherClient: 'ack' | number }> {
  const open: WebSocket[] = [];
  try {
    for (let i = 0; i < PLACES; i++) {
      const c = await connect(app, client);
      open.push(c.ws);
      assert.equal(c.outcome, 'ack');
    }
    const same = await connect(app, client);
    const different = await connect(app, other);
    open.push(same.ws, different.ws);
    return { sameClient: same.outcome, otherClient: different.outcome };
  } finally {
    for (const ws of open) ws.close();
  }
}

describe('anonymous callers behind a reverse proxy', () => {
  const limits = { ...loadConfig().limits, websocketsPerUser: PLACES };
  let proxied: TestApp;
  let direct: TestApp;
  before(async () => {
    // This test's client is on loopback: the proxy, as far as the hub can tell.
    proxied = await startTestApp({ config: { limits, trustProxy: ['loopback'] } });
    direct = await startTestApp({ config: { limits } });
  });
  after(async () => { await proxied?.stop(); await direct?.stop(); });

  it('are bounded per client when the proxy is trusted', async () => {
    assert.deepEqual(await fill(proxied, '203.0.113.7', '198.51.100.20'), { sameClient: 4429, otherClient: 'ack' });
  });

  it('cannot write themselves new places where no proxy is trusted', async () => {
    assert.deepEqual(await fill(direct, '203.0.113.7', '198.51.100.20'), { sameClient: 4429, otherClient: 4429 });
  });

  it('refuses an entry it cannot read (the hub then does not start)', () => {
    assert.throws(() => proxyTrust(['10.0.0.0/33']), /OBIA_TRUST_PROXY/);
    assert.throws(() => proxyTrust(['proxy.example']), /OBIA_TRUST_PROXY/);
  });
});
