// The development sign-in hands out any user and role, admin included. `npm start` listens on
// every interface, so a sign-in open to the network would let any passer-by approve their own
// access request and take every controlled file: it answers only callers on this machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';

describe('development sign-in answers only on the machine the archive runs on', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  const signIn = (remoteAddress: string, headers: Record<string, string> = {}) => app.http.inject({
    method: 'POST', url: '/auth/dev-sign-in', remoteAddress,
    headers: { 'content-type': 'application/json', ...headers }, payload: { user: 'mallory', role: 'admin' },
  });

  it('a caller from another address gets 403 FORBIDDEN and no token', async () => {
    const res = await signIn('203.0.113.7');
    assert.equal(res.statusCode, 403);
    const body = res.json();
    assert.equal(body.code ?? body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.doesNotMatch(res.body, /eyJ/);
  });

  it('a request a proxy on this machine relays for someone else is refused the same way', async () => {
    for (const [h, v] of [['x-forwarded-for', '198.51.100.4'], ['forwarded', 'for=198.51.100.4'], ['x-real-ip', '198.51.100.4']] as const) {
      const res = await signIn('127.0.0.1', { [h]: v });
      assert.equal(res.statusCode, 403, h);
    }
  });

  it('GET /auth/config tells a remote portal the sign-in is not offered, and a local one that it is', async () => {
    const remote = (await app.http.inject({ method: 'GET', url: '/auth/config', remoteAddress: '203.0.113.7' })).json();
    assert.equal(remote.devSignIn, false);
    const local = (await app.http.inject({ method: 'GET', url: '/auth/config', remoteAddress: '::1' })).json();
    assert.equal(local.devSignIn, true);
  });

  it('a caller on this machine still signs in (the portal on localhost), over a real socket', async () => {
    const res = await fetch(`${app.url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada","role":"curator"}' });
    assert.equal(res.status, 200);
    const { token }: any = await res.json();
    assert.deepEqual((await app.gql('{ viewer { id roles } }', {}, token) as any).data.viewer, { id: 'ada', roles: ['CURATOR'] });
  });
});

describe('OBIA_DEV_SIGNIN=network offers it to every caller', () => {
  let app: TestApp;
  const saved = process.env.OBIA_DEV_SIGNIN;
  before(async () => { process.env.OBIA_DEV_SIGNIN = 'network'; app = await startTestApp(); });
  after(async () => { if (saved === undefined) delete process.env.OBIA_DEV_SIGNIN; else process.env.OBIA_DEV_SIGNIN = saved; await app?.stop(); });

  it('a caller from another address signs in', async () => {
    const res = await app.http.inject({ method: 'POST', url: '/auth/dev-sign-in', remoteAddress: '203.0.113.7', headers: { 'content-type': 'application/json' }, payload: { user: 'demo', role: 'researcher' } });
    assert.equal(res.statusCode, 200);
  });
});
