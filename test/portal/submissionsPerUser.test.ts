// The submit page lists "Your submissions (from this browser)" from localStorage, which outlives
// sign-out and is shared by everyone who uses the browser (a lab workstation). It was one list for
// all: the next person to sign in was shown the previous one's submission titles as their own.
// One page load in chromium: the portal served from portal/dist by PortalFiles, no hub behind it
// (the page makes no API request before a form is sent).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { PortalFiles } from '../../src/http/portal.js';
import { noDatabase } from '../support/once.js';
import { ensurePortalBuilt, launchChromium } from './support.js';

noDatabase('the built portal served by PortalFiles on a bare HTTP server, in chromium; no hub, no database');

describe('the submit page lists only the signed-in user\'s remembered submissions', () => {
  let server: http.Server;
  let browser: Browser;
  let url: string;
  before(async () => {
    ensurePortalBuilt();
    const portal = new PortalFiles();
    server = http.createServer((req, res) => {
      const answer = portal.answer(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, req.headers);
      if (!answer) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found","code":"NOT_FOUND"}'); return; }
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('bob, signed in after alice on the same browser, sees his own list and none of her titles', async () => {
    const context = await browser.newContext();
    // What the browser holds after alice used it: her list (under the key every user shared
    // before, and under hers), and bob's own, with bob's session in this tab.
    const alice = JSON.stringify([{ id: 7, title: 'alice-secret-cohort' }]);
    const bob = JSON.stringify([{ id: 9, title: 'bob-own-study' }]);
    const session = JSON.stringify({ token: 'x.e30.y', user: 'bob', roles: ['submitter'], name: null, expiresAt: Date.now() + 3600_000 });
    // A script string: the test's own TypeScript has no DOM types.
    await context.addInitScript(`localStorage.setItem('obia.submissions', ${JSON.stringify(alice)});
      localStorage.setItem('obia.submissions:alice', ${JSON.stringify(alice)});
      localStorage.setItem('obia.submissions:bob', ${JSON.stringify(bob)});
      sessionStorage.setItem('obia.session', ${JSON.stringify(session)});`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${url}/submit`);
    await page.getByRole('heading', { name: 'Submit imaging' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.doesNotMatch(text, /alice-secret-cohort/);
    assert.match(text, /#9 bob-own-study/);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
