/**
 * `npm run eval:burned-in [-- --seed 20 --phi 48 --clean 16 --harmless 16 --previews DIR]`
 *
 * Builds the seeded corpus (corpus.ts), runs every image through de-identification and then the
 * burned-in text scan (OCR, PHI judgement, redaction), and prints:
 *  - the fraction of burned-in PHI strings no longer readable after redaction. "Readable" is
 *    judged by an attacker who knows where each string was drawn: Tesseract (eng, or chi_sim
 *    for Han) reads a crop around the string's box in the stored image, and the string counts
 *    as readable when its normalised form is found in what was read within the same edit
 *    tolerance the detector uses (0 edits up to 3 characters, 1 up to 7, a quarter beyond).
 *    The same reading of the image before redaction says how many strings were legible at all;
 *    ink survival (share of the string's glyph pixels left unchanged) is printed beside it;
 *  - the fraction of clean images (no text, or harmless annotations only) altered;
 *  - the area redacted outside PHI text (pixels blanked outside the drawn PHI values' boxes);
 *  - OCR cost per image, CPU ms (all threads of this process, the OCR worker included) p50/p95,
 *    and its ratio to de-identifying the same image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { deidentify, OBIA_DEFAULT_OPTIONS } from '../../src/deid';
import { OcrEngine, readIdentifyingAttributes, scanBurnedInText, type Box, type Gray8, type BurnedInScan } from '../../src/deid/burnedInText';
import { approximateFind, normalise } from '../../src/deid/burnedInText/phiText';
import { redactionPreviewPng } from '../../src/deid/burnedInText/preview';
import { displayParsed, grayOf, parseImage } from '../../src/imaging';
import { buildCorpus, type CorpusImage, type PhiString } from './corpus';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const previews = (() => { const i = process.argv.indexOf('--previews'); return i > 0 ? process.argv[i + 1] : null; })();

function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : NaN;
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)}% (${n}/${d})` : 'n/a';
}

async function grey(part10: Uint8Array): Promise<Gray8> {
  return grayOf(await displayParsed(parseImage(part10), 0));
}

function crop(img: Gray8, b: Box, scale: number): Gray8 {
  const x0 = Math.max(0, Math.floor(b.x)), y0 = Math.max(0, Math.floor(b.y));
  const x1 = Math.min(img.width, Math.ceil(b.x + b.w)), y1 = Math.min(img.height, Math.ceil(b.y + b.h));
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  const out = new Uint8Array(w * scale * h * scale);
  for (let y = 0; y < h * scale; y++) for (let x = 0; x < w * scale; x++) out[y * w * scale + x] = img.data[(y0 + Math.floor(y / scale)) * img.width + x0 + Math.floor(x / scale)];
  return { width: w * scale, height: h * scale, data: out };
}

function tolerance(n: number): number {
  return n <= 3 ? 0 : n <= 7 ? 1 : Math.floor(n / 4);
}

/** The crop's grey range stretched to 0..255: the reader gets every chance a person with a viewer has. */
function stretch(img: Gray8): Gray8 {
  let lo = 255, hi = 0;
  for (const v of img.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const k = hi > lo ? 255 / (hi - lo) : 1;
  return { ...img, data: img.data.map((v) => Math.round((v - lo) * k)) };
}

/**
 * Whether a reader who knows where the string was can still read it there: a crop around the
 * string, contrast-stretched, read by Tesseract with global (Otsu) and local (Sauvola)
 * thresholds, and by the Chinese model for Han strings; readable if any reading finds it.
 */
async function readable(readers: OcrEngine[], img: Gray8, s: PhiString): Promise<boolean> {
  const m = Math.round(s.size * 0.8);
  const box = { x: s.box.x - m, y: s.box.y - m, w: s.box.w + 2 * m, h: s.box.h + 2 * m };
  const region = stretch(crop(img, box, s.size < 20 ? 2 : 1));
  const want = normalise(s.value);
  if (want.length === 0) return false;
  for (const reader of readers) {
    const text = s.han ? (await reader.recognizeCjkLine(region)).text : (await reader.recognize(region)).map((w) => w.text).join('');
    const hit = approximateFind(want, normalise(text));
    if (hit.end >= 0 && hit.distance <= tolerance(want.length)) return true;
  }
  return false;
}

/** Share of the string's glyph pixels outside every blanked region (comparing values would miss text drawn in the blank's own colour). */
function inkOutside(width: number, ink: Uint8Array, b: Box, regions: Box[]): number {
  let inked = 0, outside = 0;
  for (let y = Math.max(0, Math.floor(b.y)); y < b.y + b.h; y++) {
    for (let x = Math.max(0, Math.floor(b.x)); x < Math.min(width, b.x + b.w); x++) {
      if (!ink[y * width + x]) continue;
      inked++;
      if (!inside(x, y, regions, 0)) outside++;
    }
  }
  return inked ? outside / inked : 0;
}

function inside(x: number, y: number, boxes: Box[], pad: number): boolean {
  return boxes.some((b) => x >= b.x - pad && x < b.x + b.w + pad && y >= b.y - pad && y < b.y + b.h + pad);
}

async function main(): Promise<void> {
  const seed = arg('seed', 20);
  const size = { phi: arg('phi', 48), clean: arg('clean', 16), harmless: arg('harmless', 16) };
  const t0 = performance.now();
  const corpus = await buildCorpus(seed, size);
  console.log(`corpus: seed ${seed}, ${corpus.length} images (${size.phi} with PHI text, ${size.clean} clean, ${size.harmless} harmless annotations only), built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (previews) fs.mkdirSync(previews, { recursive: true });

  const engine = new OcrEngine(60_000);
  const readers = [new OcrEngine(60_000, { thresholding_method: '0', tessedit_pageseg_mode: '6' }), new OcrEngine(60_000, { tessedit_pageseg_mode: '6' })];
  const ocrCpu: number[] = [], ocrWall: number[] = [], deidCpu: number[] = [];
  let strings = 0, legibleBefore = 0, readableAfter = 0, readableAfterOfLegible = 0, inkSurvived = 0;
  const byField = new Map<string, { n: number; readable: number }>();
  let cleanAltered = 0, cleanN = 0, cleanReleased = 0, harmlessKept = 0, harmlessN = 0;
  let redactedPx = 0, outsidePx = 0, imagePx = 0;
  const verdicts = new Map<string, number>();
  const misses: string[] = [];
  const ctx = { secret: 'burned-in-eval-secret-0123456789', individualAccession: 'I000001', dateOffsetDays: -100, options: OBIA_DEFAULT_OPTIONS };

  for (const img of corpus) {
    const attrs = readIdentifyingAttributes(img.part10);
    let c = process.cpuUsage();
    const deid = deidentify(img.part10, ctx);
    deidCpu.push(cpuMs(c));
    c = process.cpuUsage();
    const w = performance.now();
    const scan: BurnedInScan = await scanBurnedInText(deid.output, attrs, { engine });
    ocrCpu.push(cpuMs(c));
    ocrWall.push(performance.now() - w);
    verdicts.set(`${img.kind}/${scan.verdict}`, (verdicts.get(`${img.kind}/${scan.verdict}`) ?? 0) + 1);
    const stored = scan.output ?? deid.output;
    const before = await grey(deid.output);
    const after = scan.output ? await grey(scan.output) : before;
    if (img.kind !== 'phi') {
      cleanN++;
      if (scan.regions.length > 0) {
        cleanAltered++;
        if (process.env.EVAL_DEBUG) console.log(`altered ${img.id}: ${JSON.stringify(scan.regions)}`);
      }
      if (scan.verdict === 'clean') cleanReleased++;
    }
    for (const h of img.harmless) {
      harmlessN++;
      if (!scan.regions.some((r) => r.x < h.x + h.w && h.x < r.x + r.w && r.y < h.y + h.h && h.y < r.y + r.h)) harmlessKept++;
    }
    for (const r of scan.regions) {
      for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) {
        redactedPx++;
        if (!inside(x, y, img.phi.map((s) => s.box), 0)) outsidePx++;
      }
    }
    imagePx += img.width * img.height;
    for (const s of img.phi) {
      strings++;
      const wasLegible = await readable(readers, before, s);
      const still = scan.output ? await readable(readers, after, s) : wasLegible;
      if (wasLegible) legibleBefore++;
      if (still) readableAfter++;
      if (still && wasLegible) readableAfterOfLegible++;
      const share = scan.output ? inkOutside(img.width, img.ink, s.box, scan.regions) : 1;
      if (share > 0.2) { inkSurvived++; if (process.env.EVAL_DEBUG) console.log(`ink ${img.id} ${s.field} ${share.toFixed(2)} redacted=${scan.output !== null} regions=${JSON.stringify(scan.regions)} box=${JSON.stringify(s.box)}`); }
      const key = `${s.field}${s.han ? ' (Han)' : ''}`;
      const f = byField.get(key) ?? { n: 0, readable: 0 };
      f.n++;
      if (still) f.readable++;
      byField.set(key, f);
      if (still) misses.push(`${img.id}: ${s.field}${s.han ? '/Han' : ''} ${s.size}px contrast ${s.contrast} ${s.font}`);
    }
    if (previews) {
      fs.writeFileSync(path.join(previews, `${img.id.replace(/\//g, '_')}.png`), await redactionPreviewPng(stored, scan.regions));
    }
  }
  await engine.close();
  for (const r of readers) await r.close();

  console.log('\nverdicts (kind/verdict: images):', [...verdicts].sort().map(([k, v]) => `${k} ${v}`).join(', '));
  console.log('\n1. burned-in PHI strings no longer readable after redaction');
  console.log(`   all strings:                  ${pct(strings - readableAfter, strings)}   (target >= 99%)`);
  console.log(`   of those legible beforehand:  ${pct(legibleBefore - readableAfterOfLegible, legibleBefore)}   (${pct(legibleBefore, strings)} were legible to the reader before redaction)`);
  console.log(`   glyph pixels mostly blanked:  ${pct(strings - inkSurvived, strings)}   (over 20% of a string's glyph pixels outside every blanked region counts as surviving)`);
  for (const [k, f] of [...byField].sort()) console.log(`     ${k.padEnd(20)} ${pct(f.n - f.readable, f.n)} unreadable after`);
  console.log('\n2. clean images altered (no text, or harmless annotations only)');
  console.log(`   altered:                      ${pct(cleanAltered, cleanN)}   (target <= 1%)`);
  console.log(`   released by a clean verdict:  ${pct(cleanReleased, cleanN)}`);
  console.log(`   harmless annotations kept:    ${pct(harmlessKept, harmlessN)}   (orientation markers, scale bars; in every image)`);
  console.log('\n3. area redacted outside PHI text');
  console.log(`   ${pct(outsidePx, redactedPx)} of redacted pixels lie outside the drawn PHI values' boxes (labels such as "Name:" and box padding included);`);
  console.log(`   that is ${((100 * outsidePx) / imagePx).toFixed(3)}% of all image area in the corpus`);
  console.log('\n4. OCR cost per image (this machine; process CPU incl. the OCR worker thread)');
  console.log(`   CPU ms p50 ${quantile(ocrCpu, 0.5).toFixed(0)}, p95 ${quantile(ocrCpu, 0.95).toFixed(0)}; wall ms p50 ${quantile(ocrWall, 0.5).toFixed(0)}, p95 ${quantile(ocrWall, 0.95).toFixed(0)}`);
  console.log(`   de-identification of the same images: CPU ms p50 ${quantile(deidCpu, 0.5).toFixed(1)}; OCR/de-identification CPU ratio (p50) ${(quantile(ocrCpu, 0.5) / Math.max(0.01, quantile(deidCpu, 0.5))).toFixed(0)}x`);
  if (misses.length) console.log(`\nstrings still readable (${misses.length}):\n  ${misses.join('\n  ')}`);
  console.log(`\ntotal wall time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
