// The portal serves files inside its folder only, through symbolic links too: a link in the
// built dist to a file outside it (/etc/passwd, the hub's configuration) is answered as absent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PortalFiles } from '../../src/http/portal.js';
import { noDatabase } from '../support/once.js';

noDatabase('PortalFiles answers from a folder of files; no database is opened');

describe('portal symbolic links', () => {
  let dir: string;
  let outside: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-links-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'OBIA_SECRET=hunter2');
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>OBIA Hub</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'app-abc.js'), 'console.log(1)');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'leak.txt'));
    fs.symlinkSync(outside, path.join(dir, 'out'));
    fs.symlinkSync(path.join(dir, 'assets', 'app-abc.js'), path.join(dir, 'alias.js'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('answers a link to a file or folder outside as absent, and one inside as its file', () => {
    const portal = new PortalFiles(dir);
    for (const p of ['/leak.txt', '/out/secret.txt']) assert.equal(portal.answer('GET', p, { accept: '*/*' }), null, p);
    const inside = portal.answer('GET', '/alias.js', { accept: '*/*' });
    assert.equal(inside?.status, 200);
    assert.equal(inside!.body.toString(), 'console.log(1)');
  });
});
