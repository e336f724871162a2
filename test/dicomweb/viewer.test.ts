// Issue 15: OHIF v3 at /viewer opens the default archive `npm start` seeds (real CT, MR, CR and DX
// images put through the archive's own submission path) through /dicom-web, and draws each slice;
// a controlled study opens for a researcher whose request was approved, by the token the portal hands over.
// The slice is judged from the viewport's own canvas (cornerstone draws into a 2D canvas), not from a
// screenshot: OHIF's overlay text and its first-visit tour lie over the canvas and would supply
// "grey levels" of their own while the image area stays black.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Role } from '../../src/auth/Principal.js';
import { OHIF_VERSION } from '../../src/dicomweb/viewerRoute.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { insertRequest } from '../access/support.js';
import { Accessibility } from '../../src/domain.js';
import { SEED_COLLECTIONS } from '../../seeds/catalogue.js';
import type { TestApp } from '../support/app.js';
import { startSeededApp } from '../support/seededArchive.js';
import { TEST_DB } from '../support/database.js';
import { baseUrl, CHROMIUM, launchChromium, SCREENSHOTS } from '../portal/support.js';
import { runsOnce } from '../support/once.js';

runsOnce('OHIF in a browser; QIDO and WADO run on both databases in the qido, wado and conformance tests');

interface CanvasPixels { width: number; height: number; levels: number; nonBlack: number }

/**
 * Runs in the page: what the first viewport's canvas holds (its size, distinct grey levels, the
 * share of pixels that are not black), or null while less than `minNonBlack` of it is lit.
 */
function canvasPixels(minNonBlack: number): CanvasPixels | null {
  const canvas = (globalThis as any).document.querySelector('canvas.cornerstone-canvas') as { width: number; height: number; getContext(kind: '2d'): any } | null;
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx || !canvas.width || !canvas.height) return null;
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const seen = new Set<number>();
  let lit = 0;
  for (let i = 0; i < data.length; i += 4) {
    const level = Math.round((data[i]! + data[i + 1]! + data[i + 2]!) / 3);
    seen.add(level);
    if (level > 8) lit++;
  }
  const nonBlack = lit / (data.length / 4);
  return nonBlack >= minNonBlack ? { width: canvas.width, height: canvas.height, levels: seen.size, nonBlack } : null;
}

/**
 * The viewport's pixels once a slice fills part of it (its frame arrived and decoded), waited on
 * the canvas itself; null when it never does.
 */
function drawnSlice(page: Page): Promise<CanvasPixels | null> {
  return page.waitForFunction(canvasPixels, 0.05, { timeout: 120_000, polling: 250 })
    .then((h) => h.jsonValue() as Promise<CanvasPixels>, () => null);
}

// runsOnce above: npm test runs this file in the SQLite pass only; run by hand on MariaDB it skips.
const skip = TEST_DB !== 'sqlite' ? 'database-independent: runs in the SQLite pass'
  : !fs.existsSync(CHROMIUM) && process.env.CI !== 'true' ? 'Debian chromium is not installed (.ci/run installs it)' : false;

describe('OHIF v3 at /viewer opens the default archive through /dicom-web', { skip }, () => {
  let app: TestApp;
  let browser: Browser;
  // One browser context for the file's pages: its HTTP and V8 code caches let each page after the
  // first reuse OHIF's parsed and compiled bundles (≈ 12 CPU-s of Chromium a cold load, 7 loads).
  // Every test still opens a page of its own; none signs in but the last, whose anonymous page
  // comes first.
  let context: BrowserContext;
  let tourOffered = false;
  before(async () => {
    assert.ok(fs.existsSync(`vendor/ohif/${OHIF_VERSION}/.verified`), 'the viewer is fetched and verified at install (npm run viewer:fetch)');
    app = await startSeededApp();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  /**
   * A released series of `modality` in an open collection of the default archive, found as a viewer
   * finds it: QIDO without signing in (a controlled collection's metadata is public, its pixels are not).
   */
  async function seriesOf(modality: string, accessibility = Accessibility.OPEN): Promise<{ study: string; series: string; patient: string; collection: string }> {
    for (const { accession } of SEED_COLLECTIONS.filter((c) => c.accessibility === accessibility)) {
      const res = await fetch(`${baseUrl(app)}/dicom-web/series?Modality=${modality}&00120020=${accession}&includefield=00100020&limit=1`);
      assert.equal(res.status, 200, `QIDO series of ${modality} in ${accession}`);
      const [s] = (await res.json()) as any[];
      if (s) return { study: s['0020000D'].Value[0], series: s['0020000E'].Value[0], patient: s['00100020'].Value[0], collection: accession };
    }
    assert.fail(`the default archive has a released ${modality} series in a collection of ${accessibility} access`);
  }

  /** A page that records what went wrong: the browser's errors and every refused request. */
  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    // OHIF's bundles are large and swiftshader draws on the CPU: on a busy machine a load takes
    // longer than Playwright's 30 s default. A timeout is a limit, never the measure.
    page.setDefaultTimeout(120_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page: ${e.message.slice(0, 300)}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url().slice(0, 200)}`); });
    // OHIF cancels frame prefetches it no longer needs (net::ERR_ABORTED); anything else is a fault.
    page.on('requestfailed', (r) => { if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) problems.push(`failed ${r.url().slice(0, 200)}: ${r.failure()?.errorText}`); });
    return { page, problems };
  }

  it('lists the default archive\'s studies', async () => {
    const { page, problems } = await newPage();
    const { patient } = await seriesOf('CT');
    await page.goto(`${baseUrl(app)}/viewer/`);
    await page.getByText(patient).first().waitFor({ timeout: 120_000 }).catch((err) => { throw new Error(`${err.message}\n${problems.join('\n')}`); });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-study-list.png') });
    assert.deepEqual(problems, [], 'no request of the viewer is refused and no script fails');
    await page.close();
  });

  // One series of each modality the default archive's open collections hold: CT and MR slices with
  // geometry, the JPEG 2000 CR (MONOCHROME1, compressed frames as stored), secondary-capture DX.
  for (const modality of ['CT', 'MR', 'CR', 'DX']) {
    it(`draws a ${modality} slice of the default archive`, async () => {
      const { study, series } = await seriesOf(modality);
      const { page, problems } = await newPage();
      await page.goto(`${baseUrl(app)}/viewer/viewer?StudyInstanceUIDs=${study}&SeriesInstanceUIDs=${series}`);
      await page.locator('canvas.cornerstone-canvas').first().waitFor({ timeout: 120_000 }).catch((err) => { throw new Error(`${err.message}\n${problems.join('\n')}`); });
      const pixels = await drawnSlice(page);
      // OHIF's first-visit tour would cover the screenshot kept for a person to look at. It comes
      // once per browser context (OHIF remembers the visit): the first viewer page gives it a
      // moment to appear; later pages close it only if it is there, rather than each waiting 2 s
      // for it while the viewer goes on fetching and decoding the series.
      const tour = page.getByText('Skip all');
      if (!tourOffered) await tour.click({ timeout: 2_000 }).catch(() => undefined);
      else if (await tour.isVisible()) await tour.click();
      tourOffered = true;
      await page.screenshot({ path: path.join(SCREENSHOTS, `viewer-${modality}.png`) });
      const seen = JSON.stringify(pixels);
      assert.ok(pixels, `the ${modality} viewport is drawn (${seen})\n${problems.join('\n')}`);
      // A slice fills a good part of the viewport with many grey levels; a black or flat viewport has one or two.
      assert.ok(pixels.levels >= 32, `the ${modality} slice has grey levels (${seen})`);
      assert.ok(pixels.nonBlack >= 0.1, `the ${modality} slice covers the viewport (${seen})`);
      assert.deepEqual(problems, [], 'no request of the viewer is refused and no script fails');
      await page.close();
    });
  }

  it('opens a controlled study with the pixels its approved request allows, by the token the portal hands over', async () => {
    const { study, series, collection } = await seriesOf('CT', Accessibility.CONTROLLED);
    const url = `${baseUrl(app)}/viewer/viewer?StudyInstanceUIDs=${study}&SeriesInstanceUIDs=${series}`;
    // Anonymous: the study's metadata is public, its frames are not (401), so nothing is drawn.
    const anon = await newPage();
    const refused = anon.page.waitForResponse((r) => r.url().includes('/frames/') && r.status() === 401, { timeout: 120_000 });
    await anon.page.goto(url);
    await refused;
    await anon.page.close();
    // A researcher with an approved request: the portal's link passes the session token (OHIF's `token` parameter).
    const knex = (app.orm.em as EntityManager).getKnex();
    const { id } = await knex('collection').where('accession', collection).first('id');
    await insertRequest(app, Number(id), 'viewer-approved', AccessRequestState.APPROVED);
    const token = await app.token('viewer-approved', Role.RESEARCHER);
    const { page, problems } = await newPage();
    await page.goto(`${url}&token=${encodeURIComponent(token)}`);
    const pixels = await drawnSlice(page);
    assert.ok(pixels, `the controlled CT slice is drawn for the approved researcher\n${problems.join('\n')}`);
    assert.ok(!page.url().includes('token='), 'OHIF takes the token out of the address bar');
    assert.ok(pixels && pixels.levels >= 32 && pixels.nonBlack >= 0.1, JSON.stringify(pixels));
    assert.deepEqual(problems, [], 'no request of the viewer is refused and no script fails');
    await page.close();
  });
});
