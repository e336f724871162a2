import { displayParsed, grayOf, parseImage, type ParsedImage } from '../../imaging';
import { strokeImage } from './enhance';
import type { IdentifyingAttributes } from './identity';
import { OcrEngine, type Box, type Gray8, type OcrWord } from './ocrEngine';
import { approximateFind, classifyWords, normalise, spreadThroughBlocks, type ClassifiedWord, type PhiKind } from './phiText';
import { redactBoxes } from './redact';

/**
 * What OCR concluded about one image.
 * - clean: no text but harmless annotations (orientation markers, measurements, units) and
 *   readable text that is not PHI; nothing was changed.
 * - redacted: PHI text was found and blanked in every frame (`output` holds the new file);
 *   `counts.unread` says whether text-like marks OCR could not read remain elsewhere.
 * - needs-review: text-like marks OCR could not read remain (the image stays held).
 * - failed: OCR or decoding could not run (the image stays held; `reason` says why).
 */
export type BurnedInVerdict = 'clean' | 'redacted' | 'needs-review' | 'failed';

export interface RedactedRegion extends Box { why: PhiKind }

export interface BurnedInScan {
  verdict: BurnedInVerdict;
  /** Why the image needs a person, or null for a clean verdict. Never quotes the text. */
  reason: string | null;
  /** Blanked rectangles in pixel coordinates, the same in every frame; drawn on curators' previews. */
  regions: RedactedRegion[];
  /** Words by class (no text): what a curator's summary shows. */
  counts: { words: number; phi: number; harmless: number; text: number; unread: number };
  /** Frames OCR read (0-based). */
  frames: number[];
  /** The redacted file (native Explicit VR Little Endian), when anything was blanked. */
  output: Buffer | null;
  transferSyntaxUid: string | null;
}

export interface BurnedInScanOptions {
  /** Blank what is found (the Clean Pixel Data option); false only reports. */
  redact?: boolean;
  /** The engine to reuse (one per thread); a private one is created and closed otherwise. */
  engine?: OcrEngine;
  timeoutMs?: number;
  /** Frames of a multi-frame image OCR reads (first, middle, last, …): burned-in text is static across a cine loop. */
  maxFrames?: number;
  minConfidence?: number;
}

function framesToRead(n: number, max: number): number[] {
  if (n <= max) return [...Array(n).keys()];
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(Math.round((i * (n - 1)) / Math.max(1, max - 1)));
  return [...out].sort((a, b) => a - b);
}

/** Tesseract reads glyphs best at 20-40 px; small matrices (ultrasound, CT at 512) are upscaled. */
function scaleFor(img: Gray8): number {
  const longest = Math.max(img.width, img.height);
  return longest < 200 ? 3 : longest < 400 ? 2 : 1;
}

function upscale(img: Gray8, s: number): Gray8 {
  if (s === 1) return img;
  const w = img.width * s, h = img.height * s;
  const out = new Uint8Array(w * h);
  // Bilinear: nearest-neighbour blocks read as jagged glyphs.
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.max(0, (y + 0.5) / s - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(img.height - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, (x + 0.5) / s - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(img.width - 1, x0 + 1), fx = sx - x0;
      const d = img.data;
      const top = d[y0 * img.width + x0] * (1 - fx) + d[y0 * img.width + x1] * fx;
      const bottom = d[y1 * img.width + x0] * (1 - fx) + d[y1 * img.width + x1] * fx;
      out[y * w + x] = (top * (1 - fy) + bottom * fy + 0.5) | 0;
    }
  }
  return { width: w, height: h, data: out };
}

function crop(img: Gray8, b: Box): Gray8 {
  const x0 = Math.max(0, Math.floor(b.x)), y0 = Math.max(0, Math.floor(b.y));
  const x1 = Math.min(img.width, Math.ceil(b.x + b.w)), y1 = Math.min(img.height, Math.ceil(b.y + b.h));
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) out.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x0 + w), y * w);
  return { width: w, height: h, data: out };
}

/** The crop's grey range stretched to 0..255 (a line of text is most of what a crop holds). */
function stretch(img: Gray8): Gray8 {
  let lo = 255, hi = 0;
  for (const v of img.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (hi <= lo) return img;
  const k = 255 / (hi - lo);
  return { ...img, data: img.data.map((v) => Math.round((v - lo) * k)) };
}

/** Dark glyphs on a light ground, which the models were trained on: inverted when the border is dark. */
function inkOnWhite(img: Gray8): Gray8 {
  let sum = 0, n = 0;
  for (let x = 0; x < img.width; x++) { sum += img.data[x] + img.data[(img.height - 1) * img.width + x]; n += 2; }
  for (let y = 0; y < img.height; y++) { sum += img.data[y * img.width] + img.data[y * img.width + img.width - 1]; n += 2; }
  return sum / n < 128 ? { ...img, data: img.data.map((v) => 255 - v) } : img;
}

function padBox(b: Box, p: number): Box {
  return { x: b.x - p, y: b.y - p, w: b.w + 2 * p, h: b.h + 2 * p };
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Overlapping boxes merged (one rectangle per run of PHI words on a line, mostly). */
function merge(regions: RedactedRegion[]): RedactedRegion[] {
  const out = [...regions];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < out.length && !changed; i++) {
      for (let j = i + 1; j < out.length; j++) {
        if (!overlaps(out[i], out[j])) continue;
        const a = out[i], b = out[j];
        const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
        out[i] = { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y, why: a.why };
        out.splice(j, 1);
        changed = true;
        break;
      }
    }
  }
  return out;
}

/** 1 where either stroke image (bright or dark strokes) shows ink. */
function inkMask(bright: Gray8, dark: Gray8): Uint8Array {
  const out = new Uint8Array(bright.data.length);
  for (let i = 0; i < out.length; i++) out[i] = bright.data[i] < 128 || dark.data[i] < 128 ? 1 : 0;
  return out;
}

/**
 * OCR often boxes only part of a word it half-read ("2008.1" of "2008.11.25"): a PHI box grows
 * sideways along its text band while ink continues, across gaps narrower than a glyph, by at
 * most its own width each way.
 */
function growAlongLine(b: Box, ink: Uint8Array, width: number, height: number): Box {
  const y0 = Math.max(0, Math.floor(b.y + b.h * 0.15)), y1 = Math.min(height, Math.ceil(b.y + b.h * 0.85));
  const inked = (x: number) => {
    for (let y = y0; y < y1; y++) if (ink[y * width + x]) return true;
    return false;
  };
  const gap = Math.max(2, Math.round(b.h * 0.7));
  let right = Math.min(width - 1, Math.ceil(b.x + b.w)), left = Math.max(0, Math.floor(b.x));
  for (let x = right + 1, blank = 0; x < Math.min(width, b.x + 2 * b.w + 1) && blank <= gap; x++) {
    if (inked(x)) { right = x; blank = 0; } else blank++;
  }
  for (let x = left - 1, blank = 0; x >= Math.max(0, b.x - b.w - 1) && blank <= gap; x--) {
    if (inked(x)) { left = x; blank = 0; } else blank++;
  }
  return { x: left, y: b.y, w: right + 1 - left, h: b.h };
}

/** Marks that are not text at all: a box as tall as a fifth of the image is anatomy or a border. */
function textSized(w: OcrWord, img: Gray8): boolean {
  return w.box.h >= 4 && w.box.h <= Math.max(48, img.height / 5) && w.box.w >= 2;
}

function clamp(b: RedactedRegion, width: number, height: number): RedactedRegion {
  const x = Math.max(0, Math.floor(b.x)), y = Math.max(0, Math.floor(b.y));
  return { x, y, w: Math.min(width, Math.ceil(b.x + b.w)) - x, h: Math.min(height, Math.ceil(b.y + b.h)) - y, why: b.why };
}

export async function readFrame(parsed: ParsedImage, index: number, engine: OcrEngine, attrs: IdentifyingAttributes, minConfidence: number): Promise<ClassifiedWord[]> {
  const grey = grayOf(await displayParsed(parsed, index));
  const s = scaleFor(grey);
  const big = upscale(grey, s);
  // Two readings: the display image, and its bright strokes alone (white top-hat), where grey
  // text over tissue or at low contrast stands out as ink on white. Lines keep apart per reading.
  const plain = (await engine.recognize(big)).filter((w) => textSized(w, big));
  const bright = strokeImage(big);
  const strokes = (await engine.recognize(bright)).filter((w) => textSized(w, big)).map((w) => ({ ...w, line: w.line + 1_000_000 }));
  const classified = classifyWords([...plain, ...strokes], attrs, minConfidence);
  // Han characters: the English model reads a Chinese name as short junk ("RE", "HE:"), often
  // confidently; the Chinese model, on that word's crop only, says whether it is Han text.
  // Candidates: short non-PHI words at least two glyphs wide, tallest first (the plain and the
  // stroke readings often both hold one; a box overlapping one already read is skipped).
  const candidates = classified
    .filter((w) => (w.cls.kind === 'unread' || w.cls.kind === 'text') && normalise(w.text).length <= 4 && w.box.w >= 1.2 * w.box.h && w.box.h >= 8)
    .sort((a, b) => b.box.h - a.box.h);
  const read: Box[] = [];
  // The file's own values in Han characters: each part of two or more characters, and each
  // whole name without separators (张^伟 is printed 张伟).
  const hanNames = [...attrs.names, ...attrs.institutions]
    .flatMap((n) => [normalise(n.split('=').find((g) => /\p{Script=Han}/u.test(g)) ?? ''), ...n.split(/[\^=,\s]+/).map((p) => normalise(p))])
    .filter((p) => p.length >= 2 && /^\p{Script=Han}+$/u.test(p));
  for (const w of candidates) {
    if (read.length >= 16) break;
    if (read.some((b) => overlaps(b, w.box))) continue;
    read.push(w.box);
    const m = Math.round(w.box.h * 0.4);
    const line = await engine.recognizeCjkLine(inkOnWhite(upscale(stretch(crop(big, padBox(w.box, m))), 2)));
    const han = line.text.match(/\p{Script=Han}/gu) ?? [];
    // The file's own name in Han characters, however unsure the reading; any other run of two or
    // more Han characters only when the model is sure (it makes Han characters out of tissue).
    // One character of a Han name may be misread (张伟 as 筷伟): the other one, in place, matches.
    const hanText = han.join('');
    if (han.length >= 2 && hanNames.some((n) => approximateFind(n, hanText).distance <= Math.ceil(n.length / 3))) w.cls = { kind: 'phi', why: 'name' };
    else if (han.length >= 2 && line.confidence >= 70) w.cls = { kind: 'phi', why: 'han-name' };
  }
  spreadThroughBlocks(classified);
  // The line just above or below a PHI block that no reading turned into a word: a small Han
  // name over a patient header reads as nothing in English. The Chinese model reads that band.
  const bands: ClassifiedWord[] = [];
  for (const w of classified) {
    if (w.cls.kind !== 'phi' || bands.length >= 8) continue;
    for (const dir of [-1, 1]) {
      const h = w.box.h;
      // Two and a half line heights (a Han name is often set larger than the Latin lines under it), clamped
      // to the image: a name on the top or bottom edge is where screen headers put it.
      const top = dir < 0 ? Math.max(0, w.box.y - 2.5 * h) : w.box.y + w.box.h;
      const bottom = dir < 0 ? w.box.y : Math.min(big.height, w.box.y + w.box.h + 2.5 * h);
      const left = Math.max(0, w.box.x - h), right = Math.min(big.width, w.box.x + w.box.w + h);
      if (bottom - top < h) continue;
      const band = { x: left, y: top, w: right - left, h: bottom - top };
      const centre = (b: Box) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });
      const holds = (b: Box) => { const c = centre(b); return c.x >= band.x && c.x < band.x + band.w && c.y >= band.y && c.y < band.y + band.h; };
      if (classified.some((o) => o.cls.kind !== 'noise' && holds(o.box)) || bands.some((o) => overlaps(o.box, band))) continue;
      const line = await engine.recognizeCjkLine(inkOnWhite(upscale(stretch(crop(big, band)), 2)));
      const han = (line.text.match(/\p{Script=Han}/gu) ?? []).join('');
      if ((han.length >= 2 && line.confidence >= 30) || hanNames.some((n) => han.length >= 2 && approximateFind(n, han).distance <= Math.ceil(n.length / 3))) {
        bands.push({ text: '', confidence: line.confidence, box: band, line: -1, cls: { kind: 'phi', why: 'adjacent' } });
      }
      if (bands.length >= 8) break;
    }
  }
  classified.push(...bands);
  const ink = inkMask(bright, strokeImage(big, 6, true));
  for (const w of classified) if (w.cls.kind === 'phi') w.box = growAlongLine(w.box, ink, big.width, big.height);
  for (const w of classified) w.box = { x: w.box.x / s, y: w.box.y / s, w: w.box.w / s, h: w.box.h / s };
  return classified;
}

/**
 * The worker half: OCR on the de-identified image's frames, each word judged against the file's
 * own identifying attributes (read from the source before de-identification) and PHI patterns,
 * and the PHI blanked in every frame. Never throws for a bad image: decoding or OCR failure and
 * timeouts come back as a 'failed' verdict with the reason, which keeps the image held.
 */
export async function scanBurnedInText(deidentified: Uint8Array, attrs: IdentifyingAttributes, opts: BurnedInScanOptions = {}): Promise<BurnedInScan> {
  const engine = opts.engine ?? new OcrEngine(opts.timeoutMs);
  const counts = { words: 0, phi: 0, harmless: 0, text: 0, unread: 0 };
  const empty = { regions: [], counts, frames: [], output: null, transferSyntaxUid: null };
  try {
    let parsed: ParsedImage;
    try {
      parsed = parseImage(deidentified);
    } catch (e) {
      return { ...empty, verdict: 'failed', reason: `OCR could not run: pixels not decodable (${e instanceof Error ? e.message : String(e)})` };
    }
    const frames = framesToRead(parsed.attrs.numberOfFrames, opts.maxFrames ?? 3);
    const regions: RedactedRegion[] = [];
    try {
      for (const f of frames) {
        for (const w of await readFrame(parsed, f, engine, attrs, opts.minConfidence ?? 55)) {
          if (w.cls.kind === 'noise') continue;
          counts.words++;
          if (w.cls.kind === 'phi') {
            counts.phi++;
            // A margin of a third of the glyph height covers ascenders, descenders and the
            // anti-aliased fringe OCR's box leaves out.
            const p = Math.max(2, Math.ceil(w.box.h / 3));
            regions.push({ ...padBox(w.box, p), why: w.cls.why });
          } else counts[w.cls.kind]++;
        }
      }
    } catch (e) {
      return { ...empty, counts, frames, verdict: 'failed', reason: `OCR could not run: ${e instanceof Error ? e.message : String(e)}` };
    }
    const merged = merge(regions).map((r) => clamp(r, parsed.attrs.columns, parsed.attrs.rows));
    const unread = counts.unread > 0 ? `; ${counts.unread} text-like mark(s) OCR could not read` : '';
    if (merged.length === 0) {
      return counts.unread > 0
        ? { ...empty, counts, frames, verdict: 'needs-review', reason: `burned-in text check: ${counts.unread} text-like mark(s) OCR could not read` }
        : { ...empty, counts, frames, verdict: 'clean', reason: null };
    }
    if (opts.redact === false) {
      return { regions: merged, counts, frames, output: null, transferSyntaxUid: null, verdict: 'needs-review', reason: `burned-in PHI found in ${merged.length} region(s); Clean Pixel Data is off, so nothing was blanked${unread}` };
    }
    let redacted: { output: Buffer; transferSyntaxUid: string };
    try {
      redacted = await redactBoxes(deidentified, merged, `Burned-in text: ${merged.length} region(s) blanked after OCR`);
    } catch (e) {
      return { ...empty, counts, frames, regions: merged, verdict: 'failed', reason: `burned-in PHI found in ${merged.length} region(s) but could not be blanked: ${e instanceof Error ? e.message : String(e)}` };
    }
    return {
      verdict: 'redacted',
      reason: `burned-in PHI blanked in ${merged.length} region(s)${unread}`,
      regions: merged, counts, frames, ...redacted,
    };
  } finally {
    if (!opts.engine) await engine.close();
  }
}
