// Sign-in with an external OIDC issuer: the portal runs the authorization code flow with PKCE in
// the browser against a real OpenID provider (node-oidc-provider, on the loopback address), and
// the hub accepts the access token it gets — verified against that provider's published keys.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.js';
import { baseUrl, ensurePortalBuilt, launchChromium, newPage, screenshot, screenshotOpenPages } from './support.js';
import { runsOnce } from '../support/once.js';

runsOnce("the browser's authorization code flow against an OpenID provider; token verification touches no table");

const CLIENT_ID = 'obia-portal';

describe('sign-in with an external OIDC issuer (authorization code + PKCE)', () => {
  let idp: http.Server;
  let app: TestApp;
  let browser: Browser;
  let issuer: string;

  before(async () => {
    ensurePortalBuilt();
    // The provider's address first: the hub must know its issuer, and the provider the hub's redirect URI.
    idp = http.createServer();
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    process.env.OBIA_PORTAL_OIDC_CLIENT_ID = CLIENT_ID;
    app = await startTestApp({ config: { oidc: { issuer, audience: 'obia-hub', jwksUrl: `${issuer}/jwks`, clockToleranceSeconds: 30 } } });

    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const signing = { ...(await exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
    // oidc-provider is an ES module; this test compiles to CommonJS.
    const { default: Provider } = (await import('oidc-provider' as string)) as { default: new (issuer: string, config: unknown) => { callback(): http.RequestListener } };
    const portalOrigin = baseUrl(app);
    const provider = new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: [`${portalOrigin}/sign-in/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
      jwks: { keys: [signing as any] },
      cookies: { keys: ['portal-oidc-test-cookie-key'] },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub, name: `${sub} (from the IdP)` }) }),
      clientBasedCORS: (_ctx: unknown, origin: string) => origin === portalOrigin,
      features: {
        devInteractions: { enabled: true },
        // Access tokens for the hub are JWTs with its audience, which the hub verifies.
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => 'urn:obia-hub',
          useGrantedResource: async () => true,
          getResourceServerInfo: async () => ({ scope: 'obia', audience: 'obia-hub', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    } as any);
    idp.on('request', provider.callback());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await new Promise((r) => idp?.close(r));
    delete process.env.OBIA_PORTAL_OIDC_CLIENT_ID;
  });

  it('signs in at the issuer and comes back signed in, with the hub recognising the token', async () => {
    const { context, page, errors } = await newPage(browser, app);
    try {
      await page.goto('/sign-in?next=%2Faccess');
      await page.getByText(`Sign in with your institution's account at ${issuer}`).waitFor();
      assert.equal(await page.getByLabel('User name').count(), 0, 'no development sign-in with an external issuer');
      await page.getByRole('button', { name: 'Continue to sign-in' }).click();
      // The provider's own login and consent pages (its development interactions).
      await page.waitForURL((u) => u.origin === issuer);
      await page.locator('input[name="login"]').fill('rosalind');
      await page.locator('input[name="password"]').fill('any');
      await screenshot(page, '20-oidc-idp-login');
      await page.locator('button[type="submit"]').click();
      const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
      if (await consent.count()) await consent.click();
      await page.waitForURL((u) => u.origin === baseUrl(app) && u.pathname === '/access');
      await page.getByText('Signed in as rosalind (researcher)').waitFor();
      await page.getByRole('heading', { name: 'My access requests' }).waitFor();
      await page.getByText('You have not requested access to any collection.').waitFor();
      await screenshot(page, '21-oidc-signed-in');
      // The token the portal holds is the issuer's, for the hub's audience, and the API accepts it.
      const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('obia.session')!).token as string);
      const viewer = await app.gql('{ viewer { id name roles } }', {}, token);
      assert.deepEqual(viewer.data.viewer, { id: 'rosalind', name: null, roles: ['RESEARCHER'] });
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      assert.equal(claims.iss, issuer);
      assert.equal(claims.aud, 'obia-hub');
      assert.deepEqual(errors, []);
    } catch (err) {
      await screenshotOpenPages('oidc');
      throw err;
    } finally {
      await context.close().catch(() => {});
    }
  });
});

// Runs in the page (the test's tsconfig has no DOM library).
declare const sessionStorage: any;
