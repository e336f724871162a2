// The portal opens OHIF with the session's bearer token in the viewer's URL (?token=, which OHIF
// takes out of the address bar). The page answered for that URL must not be stored: a stored
// answer is filed under its URL, token included, in the browser's disk cache and any shared cache,
// where it outlives the tab (the portal keeps the token in sessionStorage for that very reason).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ViewerFiles, viewerRoutesOf } from '../../src/dicomweb/viewerRoute.js';
import { noDatabase } from '../support/once.js';

noDatabase('the viewer route on a bare Fastify over a folder with one pinned page; no database is opened');

describe('the viewer page carrying a token is never stored and sends it nowhere', () => {
  let app: FastifyInstance;
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-cache-'));
    const page = '<!doctype html><script>window.PUBLIC_URL="/"</script><script src="/app.js"></script>';
    fs.writeFileSync(path.join(dir, 'index.html'), page);
    const files = new ViewerFiles(dir, { 'index.html': crypto.createHash('sha256').update(page).digest('hex') });
    app = Fastify();
    await app.register(viewerRoutesOf(() => files) as never);
    await app.ready();
  });
  after(async () => { await app?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('answers /viewer/viewer?StudyInstanceUIDs=…&token=… (and the page under any path) with no-store, and sends no referrer off the origin', async () => {
    for (const url of ['/viewer/viewer?StudyInstanceUIDs=1.2.3&token=eyJhbGciOi.eyJzdWIi.sig', '/viewer/viewer?StudyInstanceUIDs=1.2.3&%74oken=eyJ', '/viewer/', '/viewer/index.html']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /text\/html/);
      assert.equal(res.headers['cache-control'], 'no-store', url);
      assert.equal(res.headers['referrer-policy'], 'same-origin', url);
      assert.match(res.body, /window\.PUBLIC_URL="\/viewer\/"/);
    }
  });

  it('the page that holds the token may connect, load images, fonts or workers from no other origin', async () => {
    const csp = (await app.inject({ method: 'GET', url: '/viewer/viewer?token=eyJ' })).headers['content-security-policy'] as string;
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
    // default-src covers connect-src, img-src, font-src, worker-src and media-src when they are absent.
    for (const name of ['default-src', 'script-src', 'style-src', 'connect-src', 'img-src', 'font-src', 'worker-src']) {
      const sources = directives.get(name) ?? directives.get('default-src');
      assert.ok(sources, `${name} is restricted (${csp})`);
      for (const s of sources) assert.match(s, /^('self'|'unsafe-inline'|'unsafe-eval'|'wasm-unsafe-eval'|blob:|data:)$/, `${name} allows only this origin and local URLs, not ${s}`);
    }
    assert.deepEqual(directives.get('frame-ancestors'), ["'self'"]);
  });
});
