// The portal's CSP lets the page connect to its own origin (HTTP and its graphql-ws socket) and the
// configured OIDC issuer, nowhere else. It said "connect-src 'self' ws: wss:", which allows a
// WebSocket to any host: the one channel the rest of the policy left open for injected script to
// send the session's token off the origin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PortalFiles } from '../../src/http/portal.js';
import { noDatabase } from '../support/once.js';

noDatabase('PortalFiles answers from a folder of files; no database is opened');

describe('the portal connects only to its own origin and the OIDC issuer', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-connect-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>OBIA Hub</title>');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const connectSrc = (portal: PortalFiles) => {
    const csp = portal.answer('GET', '/browse', { accept: 'text/html' })!.headers['content-security-policy']!;
    return / connect-src ([^;]*)/.exec(csp)![1]!.trim().split(/\s+/);
  };

  it("connect-src is 'self' (no scheme-wide ws: or wss:), plus the issuer when one is configured", () => {
    assert.deepEqual(connectSrc(new PortalFiles(dir)), ["'self'"]);
    assert.deepEqual(connectSrc(new PortalFiles(dir, { connectTo: ['https://idp.example.org'] })), ["'self'", 'https://idp.example.org']);
  });
});
