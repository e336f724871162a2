// Every file the portal serves carries its security headers, not only index.html: an SVG or a
// JSON file opened on its own is a document too (framed by another site, its URL sent on as a
// referrer, an SVG's script run without the page's CSP).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PortalFiles } from '../../src/http/portal.js';
import { noDatabase } from '../support/once.js';

noDatabase('PortalFiles answers from a folder of files; no database is opened');

describe('portal security headers', () => {
  let dir: string;
  let portal: PortalFiles;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-headers-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>OBIA Hub</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'logo-abc.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
    portal = new PortalFiles(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('frames nothing and sends no referrer from any file, page, script, SVG or JSON, GET or HEAD', () => {
    for (const [method, p] of [['GET', '/'], ['HEAD', '/'], ['GET', '/assets/logo-abc.svg'], ['GET', '/assets/index-abc.js'], ['HEAD', '/manifest.json']] as const) {
      const a = portal.answer(method, p, { accept: 'text/html' });
      assert.equal(a?.status, 200, p);
      assert.equal(a!.headers['x-content-type-options'], 'nosniff', p);
      assert.equal(a!.headers['x-frame-options'], 'DENY', `${method} ${p}`);
      assert.equal(a!.headers['referrer-policy'], 'same-origin', `${method} ${p}`);
    }
    assert.match(portal.answer('GET', '/assets/logo-abc.svg', {})!.headers['content-security-policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  });
});
