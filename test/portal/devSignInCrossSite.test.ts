// The development sign-in trusts "on this machine" for an admin token. The socket's loopback
// address alone does not say that a person on this machine asked: a site whose DNS name is rebound
// to 127.0.0.1 is, to the browser, the same origin as the hub (its script POSTs and reads the
// answer, Host naming the site), and any other site's page may send the request (Origin naming it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.js';
import type { LocalIssuer } from '../../src/auth/issuer.js';
import { signInRoutes } from '../../src/auth/signIn.js';
import { codeOf, statusOf } from '../../src/errors.js';
import { noDatabase } from '../support/once.js';

noDatabase('the sign-in routes on a bare Fastify with a stub issuer; no database is opened');

describe('development sign-in refuses a browser that reached loopback by another name or from another site', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    app.setErrorHandler((err, _request, reply) => { reply.code(statusOf(err)).send({ code: codeOf(err) }); });
    const issuer = { issue: async () => 'eyJstub.token' } as unknown as LocalIssuer;
    const config = { oidc: { issuer: 'http://127.0.0.1/', audience: 'obia' } } as unknown as Config;
    await app.register(signInRoutes(config, issuer, {}) as never);
    await app.ready();
  });
  after(async () => app?.close());

  const signIn = (headers: Record<string, string>) => app.inject({
    method: 'POST', url: '/auth/dev-sign-in', remoteAddress: '127.0.0.1',
    headers: { 'content-type': 'application/json', ...headers }, payload: { user: 'mallory', role: 'admin' },
  });

  it('a DNS-rebound name (Host: rebind.example:4000) from 127.0.0.1 gets 403 FORBIDDEN and no token, and /auth/config says so', async () => {
    for (const host of ['rebind.example:4000', '203.0.113.9:4000', 'localhost.evil.example', '']) {
      const res = await signIn({ host, origin: `http://${host}` });
      assert.equal(res.statusCode, 403, host);
      assert.equal(res.json().code, 'FORBIDDEN');
      assert.doesNotMatch(res.body, /eyJ/);
    }
    const config = await app.inject({ method: 'GET', url: '/auth/config', remoteAddress: '127.0.0.1', headers: { host: 'rebind.example:4000' } });
    assert.equal(config.json().devSignIn, false);
  });

  it('another site\'s page posting to localhost (Origin or Sec-Fetch-Site cross-site) gets 403 and no token', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const res = await signIn({ host: 'localhost:4000', ...headers });
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.doesNotMatch(res.body, /eyJ/);
    }
  });

  it('the portal opened at localhost, 127.0.0.1 or [::1] still signs in, as does a client that sends no Origin', async () => {
    for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000', 'portal.localhost:5173', 'localhost']) {
      const res = await signIn({ host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' });
      assert.equal(res.statusCode, 200, host);
      assert.equal(res.json().token, 'eyJstub.token');
    }
    assert.equal((await signIn({ host: '127.0.0.1:4000' })).statusCode, 200);
  });
});
