import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { chromium, type Browser } from 'playwright-core';
import { OHIF_VERSION } from '../../src/dicomweb/viewerRoute.js';
import { startArchive, type Archive } from './archive.js';
import { SCREENSHOTS } from '../portal/support.js';

const CHROMIUM = '/usr/bin/chromium';

/** How many distinct grey levels a screenshot holds: a rendered CT slice has many, an empty viewport one or two. */
function distinctLevels(png: Buffer): number {
  const img = PNG.sync.read(png);
  const seen = new Set<number>();
  for (let i = 0; i < img.data.length; i += 4) seen.add(img.data[i]!);
  return seen.size;
}

describe('OHIF v3 at /viewer opens the archive through /dicom-web', { skip: !fs.existsSync(CHROMIUM) && process.env.CI !== 'true' ? 'Debian chromium is not installed (.ci/run installs it)' : false }, () => {
  let a: Archive;
  let browser: Browser;
  before(async () => {
    assert.ok(fs.existsSync(`vendor/ohif/${OHIF_VERSION}/.verified`), 'the viewer is fetched and verified at install (npm run viewer:fetch)');
    a = await startArchive();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await a?.stop();
  });

  it('shows the study list and a study with a rendered slice', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // What went wrong, should it: the browser's errors and the archive's refusals.
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text().slice(0, 300)}`); });
    page.on('pageerror', (e) => problems.push(`page: ${e.message.slice(0, 300)}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url().slice(0, 200)}`); });
    page.on('requestfailed', (r) => problems.push(`failed ${r.url().slice(0, 200)}`));
    const study = a.open.studies[0]!;
    await page.goto(`${a.app.url}/viewer/`);
    await page.getByText(study.individual).first().waitFor({ timeout: 60_000 }).catch((err) => { throw new Error(`${err.message}\n${problems.join('\n')}`); });
    await page.goto(`${a.app.url}/viewer/viewer?StudyInstanceUIDs=${study.studyUid}`);
    const canvas = page.locator('canvas.cornerstone-canvas').first();
    await canvas.waitFor({ timeout: 60_000 }).catch((err) => { throw new Error(`${err.message}\n${problems.join('\n')}`); });
    // The slice is drawn once its frame arrives; poll the viewport's pixels rather than sleep.
    let levels = 0;
    let shot: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 120 && levels < 16; i++) {
      shot = await canvas.screenshot();
      levels = distinctLevels(shot);
      if (levels < 16) await page.waitForTimeout(250);
    }
    // Kept beside the portal's screenshots, for a person to look at what the viewer drew.
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.writeFileSync(path.join(SCREENSHOTS, 'viewer-slice.png'), shot);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-study.png') });
    assert.ok(levels >= 16, `the viewport shows an image (${levels} grey levels)\n${problems.join('\n')}`);
    await page.close();
  });
});
