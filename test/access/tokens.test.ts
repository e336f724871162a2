import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { LocalIssuer } from '../../src/auth/issuer.js';
import { Role } from '../../src/auth/Principal.js';
import { TokenVerifier } from '../../src/auth/verifier.js';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/app.js';

// test/api/identity.test.ts covers garbage, tampered, expired, alg none and a key not in the
// JWKS; these add what it lacks: the right key with the wrong issuer or audience, clock skew,
// and key rotation at a remote issuer.
describe('bearer tokens: issuer, audience, clock skew and key rotation', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('refuses a token signed by our own key for another issuer or another audience', async () => {
    const { config } = app;
    const otherIssuer = await LocalIssuer.open({ ...config, oidc: { ...config.oidc, issuer: 'https://evil.example/' } });
    const otherAudience = await LocalIssuer.open({ ...config, oidc: { ...config.oidc, audience: 'some-other-service' } });
    for (const [name, issuer] of [['wrong issuer', otherIssuer], ['wrong audience', otherAudience]] as const) {
      const res = await app.gql('{ viewer { id } }', {}, await issuer.issue({ sub: 'mallory', roles: [Role.ADMIN] }));
      assert.equal(res.status, 401, name);
      assert.equal(res.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', name);
    }
    // The same key, right claims: accepted (so the refusals above are about iss and aud alone).
    const ok = await app.gql('{ viewer { id } }', {}, await app.issuer.issue({ sub: 'mallory', roles: [] }));
    assert.equal(ok.data.viewer.id, 'mallory');
  });

  it("serves a subject longer than the user table keeps (OIDC allows 255) and overlong name claims, on either database", async () => {
    // MariaDB refused the user row of a 240-character subject, so every request of that user failed
    // with INTERNAL_SERVER_ERROR; SQLite stored it. The id is now a digest past 200 characters.
    const sub = 's'.repeat(240);
    const token = await app.issuer.issue({ sub, roles: [], name: 'N'.repeat(1_000), email: `${'e'.repeat(400)}@example.org`, institution: ' Institute ' });
    const res = await app.gql('{ viewer { id name institution } }', {}, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.match(res.data.viewer.id, /^[0-9a-f]{64}$/);
    assert.equal(res.data.viewer.name.length, 300);
    assert.equal(res.data.viewer.institution, 'Institute');
    const [row] = await (app.orm.em as any).getKnex()('user_account').where({ sub: res.data.viewer.id }).select('name');
    assert.equal(row.name.length, 300, 'the user is recorded');
    const again = await app.gql('{ viewer { id } }', {}, await app.issuer.issue({ sub, roles: [] }));
    assert.equal(again.data.viewer.id, res.data.viewer.id, 'the same subject is the same user');
  });

  it('accepts a token expired within the configured clock tolerance, and not beyond', async () => {
    const { config } = app;
    assert.equal(config.oidc.clockToleranceSeconds, 30);
    const justExpired = await app.issuer.issue({ sub: 'skewed', roles: [] }, -10);
    assert.equal((await app.gql('{ viewer { id } }', {}, justExpired)).data.viewer.id, 'skewed');
    const longExpired = await app.issuer.issue({ sub: 'skewed', roles: [] }, -60);
    assert.equal((await app.gql('{ viewer { id } }', {}, longExpired)).status, 401);
  });

  it('follows key rotation at a remote issuer: refetches the JWKS on an unknown kid', async () => {
    const keys: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
    const newKey = async (kid: string) => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      keys.push({ kid, privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
      return keys[keys.length - 1]!;
    };
    let published: JWK[] = [];
    let fetches = 0;
    const server = http.createServer((_req, res) => { fetches++; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: published })); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const config = loadConfig({ OIDC_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, OIDC_ISSUER: 'https://sso.example/', OIDC_AUDIENCE: 'obia-hub' });
      const verifier = new TokenVerifier(config, null, { jwksCooldownMs: 0 });
      const sign = (k: { kid: string; privateKey: CryptoKey }, sub: string) => new SignJWT({ roles: ['researcher'] }).setProtectedHeader({ alg: 'ES256', kid: k.kid })
        .setSubject(sub).setIssuer('https://sso.example/').setAudience('obia-hub').setExpirationTime('5m').sign(k.privateKey);

      const k1 = await newKey('k1');
      published = [k1.jwk];
      assert.equal((await verifier.principalFrom(`Bearer ${await sign(k1, 'one')}`))!.id, 'one');
      assert.equal(fetches, 1);
      assert.equal((await verifier.principalFrom(`Bearer ${await sign(k1, 'one')}`))!.id, 'one');
      assert.equal(fetches, 1, 'a known kid is served from the cached set');

      // Rotation: the issuer publishes k2 and retires k1.
      const k2 = await newKey('k2');
      published = [k2.jwk];
      assert.equal((await verifier.principalFrom(`Bearer ${await sign(k2, 'two')}`))!.id, 'two');
      assert.equal(fetches, 2, 'an unknown kid made the verifier refetch');
      await assert.rejects(verifier.principalFrom(`Bearer ${await sign(k1, 'one')}`), (err: any) => err.extensions?.code === 'UNAUTHENTICATED');
      // A kid no published set holds is refused even after refetching.
      const stray = await newKey('stray');
      await assert.rejects(verifier.principalFrom(`Bearer ${await sign(stray, 'x')}`), (err: any) => err.extensions?.code === 'UNAUTHENTICATED');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
