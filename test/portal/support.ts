// What the portal's browser tests share: the portal built, Debian's chromium driven by
// playwright-core (no browser download), an archive with real images put in through the API, and
// signing in the way a person does, on the sign-in page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Role } from '../../src/auth/Principal.js';
import type { TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';

export const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
export const SCREENSHOTS = path.resolve(process.cwd(), 'test-results/portal');
export const CHROMIUM = process.env.OBIA_CHROMIUM ?? '/usr/bin/chromium';

/** Builds portal/dist if missing or stale, exactly as `npm start` does. */
export function ensurePortalBuilt(): void {
  const r = spawnSync(process.execPath, ['portal/ensure-built.mjs'], { cwd: process.cwd(), stdio: 'inherit' });
  assert.equal(r.status, 0, 'the portal builds');
}

export async function launchChromium(): Promise<Browser> {
  assert.ok(fs.existsSync(CHROMIUM), `Debian's chromium is needed at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** The hub on the loopback address (the app's URL names localhost; the browser stays on 127.0.0.1). */
export function baseUrl(app: TestApp): string {
  return app.url.replace('localhost', '127.0.0.1');
}

const livePages = new Set<Page>();

/** Screenshots every page still open (named FAILED-…), so a failed journey shows where it stood, then closes them. */
export async function screenshotOpenPages(label: string): Promise<void> {
  let i = 0;
  for (const page of livePages) {
    if (!page.isClosed()) await page.screenshot({ path: path.join(SCREENSHOTS, `FAILED-${label}-${++i}.png`), fullPage: true }).catch(() => {});
    await page.context().close().catch(() => {});
  }
}

/** A browser context of its own (its own sessionStorage), at a laptop's width. */
export async function newPage(browser: Browser, app: TestApp): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: baseUrl(app), viewport: { width: 1366, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  livePages.add(page);
  page.on('close', () => livePages.delete(page));
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`); });
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in on the sign-in page with the local issuer's development sign-in. */
export async function signIn(page: Page, user: string, role: 'researcher' | 'submitter' | 'curator' | 'admin', next = '/'): Promise<void> {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('User name').fill(user);
  await page.getByRole('radio', { name: new RegExp(`^${role}:`) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${user}`).waitFor();
}

export interface Archived { accession: string; seriesUids: string[]; submissionId: string }

/**
 * A collection with real images put in the way a submitter and a curator would, through the API:
 * upload, process, every series passed, released.
 */
export async function archiveCollection(app: TestApp, opts: { submitter: string; title: string; disease: string; accessibility: 'OPEN' | 'CONTROLLED'; samples?: string[]; ctSlices: number; patientId: string; bioProject?: string }): Promise<Archived> {
  const token = await app.token(opts.submitter, Role.SUBMITTER);
  const curator = await app.token('fixture-curator', Role.CURATOR);
  const sub = await createSubmission(app, token, { title: opts.title, disease: opts.disease, accessibility: opts.accessibility, keywords: ['portal', 'test'], bioProjectAccession: opts.bioProject, description: `${opts.title}: imaging for the portal's browser tests.` });
  for (const name of opts.samples ?? []) {
    assert.equal((await upload(app, token, sub.uploadUrl, fs.readFileSync(path.join(SAMPLES, name)), name)).status, 201);
  }
  const study = uid(), series = uid();
  for (let i = 1; i <= opts.ctSlices; i++) {
    const bytes = makeCt({ patientId: opts.patientId, studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i, size: 96 });
    assert.equal((await upload(app, token, sub.uploadUrl, bytes, `slice-${i}.dcm`)).status, 201);
  }
  const result = await processToEnd(app, token, sub.id);
  assert.equal(result.quarantined, 0, 'the fixture files are clean');
  const accession = (await app.gql(`query($id: ID!) { submission(id: $id) { collection { accession } } }`, { id: sub.id }, token)).data.submission.collection.accession;
  const listed = await app.gql(`query($c: [String!]) { seriesList(filter: { collection: $c }, first: 50) { edges { node { uid } } } }`, { c: [accession] }, curator);
  const seriesUids: string[] = listed.data.seriesList.edges.map((e: any) => e.node.uid);
  for (const s of seriesUids) {
    const r = await app.gql(`mutation($uid: String!) { reviewSeries(uid: $uid, verdict: PASS, note: "looked at the preview") { verdict } }`, { uid: s }, curator);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  }
  const released = await app.gql(`mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason message } } }`, { a: accession }, curator);
  assert.equal(released.data?.releaseCollection.released, true, JSON.stringify(released));
  return { accession, seriesUids, submissionId: sub.id };
}
