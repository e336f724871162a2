// Every route family the hub serves besides the portal is the API's: a browser asking for one of
// its paths that no route matches (GET /query-images, which is POST only; /redactions/ without a
// file) gets the API's 404, never the portal's index.html with 200, which would say a curator's
// redaction preview or the query-image upload is a page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PortalFiles } from '../../src/http/portal.js';
import { noDatabase } from '../support/once.js';

noDatabase('PortalFiles answers from a folder of files; no database is opened');

describe('API paths are never answered with the portal page', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-api-paths-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>OBIA Hub</title>');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('GET /query-images and /redactions/… from a browser: not the portal (the caller 404s); a client-side route still is', () => {
    const portal = new PortalFiles(dir);
    for (const p of ['/query-images', '/query-images/x', '/redactions/', '/redactions/1.2.3', '/redactions/1.2.3.png/x']) {
      assert.equal(portal.answer('GET', p, { accept: 'text/html' }), null, p);
    }
    assert.equal(portal.answer('GET', '/collections/OBIA0001', { accept: 'text/html' })?.status, 200);
  });
});
