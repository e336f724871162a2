// Regression: an identity provider (OIDC issuer, passport broker) whose JWKS endpoint hangs held
// every signed-in request for jose's default 5 s and then answered 401 UNAUTHENTICATED "The token is
// invalid." — a valid token's holder told to sign in again, on every transport. Now the wait is
// bounded (OIDC_JWKS_TIMEOUT_MS) and the answer is SERVICE_UNAVAILABLE: 503 over HTTP (GraphQL
// and DRS alike), close code 1013 "try again later" on graphql-ws.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import WebSocket from 'ws';
import { TokenVerifier } from '../../src/auth/verifier.js';
import { PassportVerifier } from '../../src/ga4gh/passport/PassportVerifier.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('how token verification answers when the issuer\'s key set cannot be fetched; no stored data is read');

/** A server on loopback that accepts every connection and never answers. */
async function hangingServer(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = http.createServer(() => { requests++; });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    requests: () => requests,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const ISSUER = 'https://sso.example/';

describe('an identity provider whose JWKS endpoint hangs', () => {
  let hang: Awaited<ReturnType<typeof hangingServer>>;
  let app: TestApp;
  let token: string;
  before(async () => {
    hang = await hangingServer();
    // A short bound keeps the test quick; what is asserted is the answer, not the time.
    app = await startTestApp({ config: { oidc: { issuer: ISSUER, audience: 'obia-hub', jwksUrl: hang.url, clockToleranceSeconds: 30, jwksTimeoutMs: 50 } } });
    // (after a failure no request waits on the issuer for max(timeout, 5 s): the requests below fall inside it)
    const { privateKey } = await generateKeyPair('ES256');
    token = await new SignJWT({ roles: ['researcher'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice').setIssuer(ISSUER).setAudience('obia-hub').setExpirationTime('10m').sign(privateKey);
  });
  after(async () => { await app?.stop(); await hang?.close(); });

  it('answers GraphQL over HTTP 503 SERVICE_UNAVAILABLE, not 401, and serves anonymous callers meanwhile', async () => {
    const res = await app.gql('{ viewer { id } }', {}, token);
    assert.equal(res.status, 503);
    assert.equal(res.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE');
    assert.match(res.errors![0].message, /identity provider's signing keys could not be fetched/);
    assert.equal(hang.requests(), 1, 'the key set was asked for');
    // Requests right after a failure do not wait for the issuer again: answered at once, no new fetch.
    const again = await Promise.all([1, 2, 3].map(() => app.gql('{ viewer { id } }', {}, token)));
    assert.deepEqual(again.map((r) => r.status), [503, 503, 503]);
    assert.equal(hang.requests(), 1, 'no request waited on a second fetch');
    const anonymous = await app.gql('{ viewer { id } }');
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.data.viewer, null);
  });

  it('answers a DRS request 503 with the spec\'s error body', async () => {
    const res = await fetch(`${app.url}/ga4gh/drs/v1/objects/nothing-here`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { status_code: number }).status_code, 503);
  });

  it('closes a graphql-ws connection with 1013 (try again later), not 4403 (forbidden)', async () => {
    const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    const [code] = await new Promise<[number, Buffer]>((r) => ws.once('close', (c: number, reason: Buffer) => r([c, reason])));
    assert.equal(code, 1013);
  });

  it('answers a passport from a broker whose JWKS hangs as unavailable (503), not as an invalid passport', async () => {
    const broker = 'https://broker.example/';
    const passports = new PassportVerifier({ brokers: [{ issuer: broker, jwksUrl: hang.url }], visaIssuers: [], clockToleranceSeconds: 30, jwksTimeoutMs: 50 });
    const { privateKey } = await generateKeyPair('ES256');
    const passport = await new SignJWT({ ga4gh_passport_v1: [] }).setProtectedHeader({ alg: 'ES256', kid: 'b1' })
      .setSubject('bob').setIssuer(broker).setIssuedAt().setExpirationTime('10m').sign(privateKey);
    await assert.rejects(passports.verify(passport), (err: any) => err?.extensions?.code === 'SERVICE_UNAVAILABLE');
  });

  it('after a failed refetch, verifies known keys from the last set without waiting, and calls an unknown kid unavailable', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    let fetches = 0;
    const sockets = new Set<Socket>();
    // Publishes its keys once, then hangs.
    const idp = http.createServer((_req, res) => { if (++fetches === 1) res.end(JSON.stringify({ keys: [jwk] })); });
    idp.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    try {
      const oidc = { issuer: ISSUER, audience: 'obia-hub', jwksUrl: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/`, clockToleranceSeconds: 30, jwksTimeoutMs: 50 };
      const verifier = new TokenVerifier({ ...app.config, oidc }, null, { jwksCooldownMs: 0 });
      const signed = (kid: string) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('carol').setIssuer(ISSUER).setAudience('obia-hub').setExpirationTime('5m').sign(privateKey);
      const code = (p: Promise<unknown>) => p.then(() => 'OK', (err) => err?.extensions?.code);
      assert.equal(await code(verifier.principalFrom(`Bearer ${await signed('k1')}`)), 'OK');
      assert.equal(await code(verifier.principalFrom(`Bearer ${await signed('k2')}`)), 'SERVICE_UNAVAILABLE', 'an unknown kid refetches; the issuer hangs');
      assert.equal(await code(verifier.principalFrom(`Bearer ${await signed('k1')}`)), 'OK', 'a known key still verifies');
      assert.equal(await code(verifier.principalFrom(`Bearer ${await signed('k2')}`)), 'SERVICE_UNAVAILABLE');
      assert.equal(fetches, 2, 'nothing waited on the issuer after the failure');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => idp.close(r));
    }
  });
});
