// How the hub serves the portal and signs browsers in, without a browser: which paths are files,
// which are client-side routes, which belong to the API; that the first page stays within its
// budget; the Fastify form of the same module; and that development sign-in exists only with
// the local issuer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { PortalFiles, portalPlugin } from '../../src/http/portal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { ensurePortalBuilt } from './support.js';
import { runsOnce } from '../support/once.js';

runsOnce("which paths serve the portal's files and sign-in; no query depends on the database");

const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('portal files', () => {
  let dir: string;
  let portal: PortalFiles;
  const script = 'console.log("portal");'.repeat(100);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-dist-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>OBIA Hub</title><script type="module" src="/assets/index-abc.js"></script>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc.js'), script);
    fs.writeFileSync(path.join(os.tmpdir(), 'portal-secret.txt'), 'outside the dist folder');
    portal = new PortalFiles(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers client-side routes with index.html, UIDs with dots included, and never caches it', () => {
    for (const p of ['/', '/browse', '/series/1.2.840.113619.2.55.3', '/collections/OBIA0001', '/submit/12']) {
      const a = portal.answer('GET', p, HTML);
      assert.equal(a?.status, 200, p);
      assert.match(a!.body.toString(), /<title>OBIA Hub/);
      assert.equal(a!.headers['cache-control'], 'no-cache');
      assert.match(a!.headers['content-security-policy']!, /default-src 'self'/);
    }
  });

  it('serves hashed assets as immutable, gzipped for clients that accept it', () => {
    const plain = portal.answer('GET', '/assets/index-abc.js', {})!;
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.body.toString(), script);
    const gz = portal.answer('GET', '/assets/index-abc.js', { 'accept-encoding': 'gzip, br' })!;
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.body.length / 5);
    assert.equal(zlib.gunzipSync(gz.body).toString(), script);
    const head = portal.answer('HEAD', '/assets/index-abc.js', {})!;
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(script.length));
  });

  it('leaves the API\'s paths, missing assets, other methods and escapes from the folder to the router (404)', () => {
    for (const p of ['/graphql', '/thumbnails/1.2.3.png', '/previews/1.2.3.png', '/files/abc.def/archive.zip', '/submissions/3/files', '/auth/config', '/health', '/.well-known/jwks.json', '/dicom-web/studies', '/ga4gh/drs/v1/objects/x']) {
      assert.equal(portal.answer('GET', p, HTML), null, p);
    }
    assert.equal(portal.answer('GET', '/assets/missing.js', HTML), null);
    assert.equal(portal.answer('POST', '/browse', HTML), null);
    for (const p of ['/../portal-secret.txt', '/%2e%2e/portal-secret.txt', '/assets/..%2f..%2fportal-secret.txt', '/%E0%A4%A']) {
      const a = portal.answer('GET', p, HTML);
      assert.ok(a === null || !a.body.toString().includes('outside the dist folder'), p);
    }
    // A script or fetch asking for JSON at an unknown path is not handed the HTML shell.
    assert.equal(portal.answer('GET', '/browse', { accept: 'application/json' }), null);
  });

  it('says how to build the portal when it is not built, instead of a bare 404', () => {
    const unbuilt = new PortalFiles(path.join(dir, 'nowhere'));
    const a = unbuilt.answer('GET', '/', HTML)!;
    assert.equal(a.status, 503);
    assert.match(a.body.toString(), /npm run build:portal/);
  });

  it('registers in Fastify with one line, below the API\'s own routes', async () => {
    const app = Fastify();
    app.get('/graphql', async () => ({ data: null }));
    await app.register(portalPlugin, { dir });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const page = await fetch(`${base}/series/1.2.3.4`, { headers: HTML });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>OBIA Hub/);
      const asset = await fetch(`${base}/assets/index-abc.js`);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(await asset.text(), script);
      assert.deepEqual(await (await fetch(`${base}/graphql`)).json(), { data: null });
      assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
      assert.equal((await fetch(`${base}/thumbnails/1.2.3.png`, { headers: HTML })).status, 404);
    } finally {
      await app.close();
    }
  });
});

describe('the built portal', () => {
  before(() => ensurePortalBuilt());

  it('keeps the first page under 300 KB gzipped, with ECharts in a chunk of its own loaded later', () => {
    const dist = path.resolve(process.cwd(), 'portal/dist');
    const index = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    const entry = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(entry.some((e) => e.endsWith('.js')) && entry.some((e) => e.endsWith('.css')), `entry assets: ${entry}`);
    const gz = (f: string) => zlib.gzipSync(fs.readFileSync(path.join(dist, f))).length;
    const firstPage = gz('index.html') + entry.reduce((s, e) => s + gz(e), 0);
    const charts = fs.readdirSync(path.join(dist, 'assets')).filter((f) => f.startsWith('echarts'));
    assert.equal(charts.length, 1, 'ECharts is split out');
    assert.ok(!entry.some((e) => e.includes('echarts')), 'and not loaded with the first page');
    const withCharts = firstPage + gz(`assets/${charts[0]}`);
    console.log(`portal first page: ${(firstPage / 1024).toFixed(1)} KB gzipped; with the charts chunk (home page): ${(withCharts / 1024).toFixed(1)} KB`);
    assert.ok(firstPage < 300 * 1024, `first page ${firstPage} bytes`);
    assert.ok(withCharts < 300 * 1024, `home page with charts ${withCharts} bytes`);
  });
});

describe('development sign-in', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  const post = (body: unknown) => fetch(`${app.url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('issues a local token for the chosen user and role, which the API then recognises', async () => {
    const config: any = await (await fetch(`${app.url}/auth/config`)).json();
    assert.deepEqual({ mode: config.mode, devSignIn: config.devSignIn, oidc: config.oidc }, { mode: 'local', devSignIn: true, oidc: null });
    const res = await post({ user: 'ada', role: 'curator', name: 'Ada L.' });
    assert.equal(res.status, 200);
    const { token, expiresAt }: any = await res.json();
    assert.ok(Date.parse(expiresAt) > Date.now());
    const viewer = await app.gql('{ viewer { id name roles } }', {}, token);
    assert.deepEqual(viewer.data.viewer, { id: 'ada', name: 'Ada L.', roles: ['CURATOR'] });
  });

  it('refuses malformed requests with 400 and a reason', async () => {
    for (const body of [{ user: '', role: 'researcher' }, { user: 'a b', role: 'researcher' }, { user: 'x'.repeat(65) }, { user: 'bob', role: 'superuser' }, 'not json']) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(((await res.json()) as any).error);
    }
  });
});

describe('development sign-in with an external OIDC issuer', () => {
  let app: TestApp;
  before(async () => {
    // Tokens would be verified against this issuer's JWKS (never fetched here: no token is sent).
    app = await startTestApp({ config: { oidc: { issuer: 'https://id.example.org', audience: 'obia-hub', jwksUrl: 'https://id.example.org/jwks', clockToleranceSeconds: 30 } } });
  });
  after(async () => app?.stop());

  it('is not offered: the portal is told to use the issuer, and the endpoint answers 404', async () => {
    const config: any = await (await fetch(`${app.url}/auth/config`)).json();
    assert.equal(config.mode, 'oidc');
    assert.equal(config.devSignIn, false);
    assert.equal(config.oidc.issuer, 'https://id.example.org');
    const res = await fetch(`${app.url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"mallory","role":"admin"}' });
    assert.equal(res.status, 404);
  });
});
