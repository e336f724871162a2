import type { IdentifyingAttributes } from './identity';
import type { OcrWord } from './ocrEngine';

/**
 * Why a word is PHI. Categories only: the text itself never leaves the worker, so neither the
 * verdict nor a log line can leak what was burned in.
 */
export type PhiKind = 'name' | 'id' | 'date' | 'institution' | 'labelled' | 'date-pattern' | 'id-pattern' | 'name-shape' | 'han-name' | 'adjacent';
export type WordClass = { kind: 'phi'; why: PhiKind } | { kind: 'harmless' } | { kind: 'text' } | { kind: 'unread' } | { kind: 'noise' };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Upper case, compatibility forms folded, everything but letters and digits dropped. */
export function normalise(s: string): string {
  return s.normalize('NFKC').toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

// Glyphs OCR confuses with each other; folded on both sides of a comparison so "1961-O3-14"
// still matches 19610314 and "SM1TH" still matches SMITH.
const CONFUSABLE: Record<string, string> = { O: '0', Q: '0', D: '0', I: '1', L: '1', J: '1', '|': '1', S: '5', B: '8', Z: '2', G: '6', T: '7' };
function fold(s: string): string {
  let out = '';
  for (const c of s) out += CONFUSABLE[c] ?? c;
  return out;
}

/** Smallest edit distance of `needle` against any substring of `hay`, and where that substring ends (Sellers). */
export function approximateFind(needle: string, hay: string): { distance: number; end: number } {
  const m = needle.length;
  let prev = new Array<number>(m + 1);
  for (let i = 0; i <= m; i++) prev[i] = i;
  let best = { distance: m, end: -1 };
  for (let j = 1; j <= hay.length; j++) {
    const cur = new Array<number>(m + 1);
    cur[0] = 0;
    for (let i = 1; i <= m; i++) {
      cur[i] = Math.min(prev[i] + 1, cur[i - 1] + 1, prev[i - 1] + (needle[i - 1] === hay[j - 1] ? 0 : 1));
    }
    if (cur[m] < best.distance) best = { distance: cur[m], end: j - 1 };
    prev = cur;
  }
  return best;
}

/** Edits tolerated for a needle of this length: none for short ones, about one in four for long ones. */
function tolerance(length: number): number {
  if (length <= 3) return 0;
  if (length <= 7) return 1;
  return Math.floor(length / 4);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The ways a DA value (YYYYMMDD) gets printed on screens, normalised: digit orders, month names, 年月日. */
export function dateVariants(da: string): string[] {
  const y = da.slice(0, 4), yy = da.slice(2, 4), m = Number(da.slice(4, 6)), d = Number(da.slice(6, 8));
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31)) return [da];
  const mm = pad(m), dd = pad(d), mon = MONTHS[m - 1];
  return [...new Set([
    `${y}${mm}${dd}`, `${dd}${mm}${y}`, `${mm}${dd}${y}`, `${yy}${mm}${dd}`, `${dd}${mm}${yy}`, `${mm}${dd}${yy}`,
    `${y}${m}${d}`, `${d}${m}${y}`, `${m}${d}${y}`,
    `${dd}${mon}${y}`, `${d}${mon}${y}`, `${mon}${dd}${y}`, `${mon}${d}${y}`, `${y}${mon}${dd}`,
  ])];
}

interface Needle { text: string; why: PhiKind }

const GENERIC_INSTITUTION_WORDS = new Set(['HOSPITAL', 'MEDICAL', 'CENTER', 'CENTRE', 'CLINIC', 'UNIVERSITY', 'INSTITUTE', 'OF', 'THE', 'AND', 'DEPARTMENT', 'RADIOLOGY', 'IMAGING', 'HEALTH']);

/** What to look for in OCR text, from the file's own identifying attributes. */
export function needlesOf(attrs: IdentifyingAttributes): Needle[] {
  const out: Needle[] = [];
  const add = (text: string, why: PhiKind, min = 2) => {
    const n = fold(normalise(text));
    if (n.length >= min || (/\p{Script=Han}/u.test(n) && n.length >= 1)) out.push({ text: n, why });
  };
  for (const name of attrs.names) {
    add(name, 'name', 3);
    // Each name component alone: screens print "ZHANG WEI", "Zhang, Wei" or just the surname.
    for (const part of name.split(/[\^=,\s]+/)) add(part, 'name', /\p{Script=Han}/u.test(part) ? 1 : 3);
  }
  for (const id of attrs.ids) add(id, 'id', 3);
  for (const da of attrs.dates) for (const v of dateVariants(da)) add(v, 'date', 6);
  for (const inst of attrs.institutions) {
    add(inst, 'institution', 4);
    for (const part of inst.split(/[\s,.\-/]+/)) if (!GENERIC_INSTITUTION_WORDS.has(normalise(part))) add(part, 'institution', 5);
  }
  // Longest first: a full name claims its span before a component does.
  return [...new Map(out.map((n) => [n.text, n])).values()].sort((a, b) => b.text.length - a.text.length);
}

// Text that is not PHI and that images carry on purpose: orientation markers, measurements and units.
const ORIENTATION = new Set(['L', 'R', 'A', 'P', 'H', 'F', 'S', 'I', 'LT', 'RT', 'LEFT', 'RIGHT', 'AP', 'PA', 'LAT', 'LATERAL', 'LAO', 'RAO', 'LPO', 'RPO', 'SUP', 'INF', 'ANT', 'POST', 'MED', 'CRAN', 'CAUD', 'SUPINE', 'PRONE', 'ERECT', 'UPRIGHT', 'DECUB', 'AXIAL', 'SAG', 'COR', 'TRV', 'TRANS', 'LONG', '左', '右', '前', '后', '上', '下']);
const UNIT = '(?:CM|MM|M|UM|HZ|KHZ|MHZ|DB|%|S|MS|FPS|KV|KVP|MA|MAS|X|°|DEG|CM/S|M/S|MM/S|BPM|HU|SLICE|SL|IMG|IM|SE|W|C|WL|WW)';
const MEASURE = new RegExp(`^[<>~±+\\-]?\\d{1,4}(?:[.,]\\d{1,3})?${UNIT}?$`);
const UNIT_ONLY = new RegExp(`^${UNIT}$`);
const TIME = /^\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?$/;

/** Labels that announce PHI on the same line: the words after one are PHI whatever they read. */
const LABELS = /^(NAME|PATIENT|PAT|PT|PATNAME|PATIENTNAME|ID|PID|PATID|PATIENTID|MRN|MR|DOB|BIRTH|BIRTHDATE|BORN|ACC|ACCESSION|ACCNO|HOSP|HOSPITAL|EXAMDATE|STUDYDATE|DATE|姓名|病历号|住院号|门诊号|出生|出生日期|检查号|登记号|患者|病人|检查日期|日期|医院)$/;

const DATE_PATTERNS = [
  /\b(?:19|20)?\d{2}[-/.\s](?:0?[1-9]|1[0-2])[-/.\s](?:0?[1-9]|[12]\d|3[01])\b/,
  /\b(?:0?[1-9]|[12]\d|3[01])[-/.\s](?:0?[1-9]|1[0-2])[-/.\s](?:19|20)?\d{2}\b/,
  /\b(?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)\d{2}\b/,
  /\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b/,
  new RegExp(`\\b\\d{1,2}[-\\s.]?(?:${MONTHS.join('|')})[A-Z]*[-\\s.,]*(?:19|20)?\\d{2}\\b`, 'i'),
  new RegExp(`\\b(?:${MONTHS.join('|')})[A-Z]*\\.?\\s*\\d{1,2},?\\s*(?:19|20)\\d{2}\\b`, 'i'),
  /\d{2,4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?/,
];

function hanRun(s: string): boolean {
  return /\p{Script=Han}{2,4}/u.test(s) && !ORIENTATION.has(s);
}

/** One word on its own: harmless, PHI by shape, readable text, unread, or noise. */
function classifyAlone(w: OcrWord, minConfidence: number): WordClass {
  const raw = w.text.normalize('NFKC').trim();
  const n = normalise(raw);
  if (n === '') return { kind: 'noise' };
  if (hanRun(n) && w.confidence >= minConfidence) return { kind: 'phi', why: 'han-name' };
  // Low confidence: unread text if it spans a few glyphs, speckle otherwise.
  if (w.confidence < minConfidence) return n.length >= 2 && w.box.w >= 1.2 * w.box.h ? { kind: 'unread' } : { kind: 'noise' };
  const up = raw.toUpperCase().replace(/[:;,]+$/, '');
  if (ORIENTATION.has(n) || MEASURE.test(up.replace(/\s+/g, '')) || UNIT_ONLY.test(up) || TIME.test(up)) return { kind: 'harmless' };
  if (/^\d+[X×]\d+$/.test(n)) return { kind: 'harmless' };
  if (/\p{L}\^\p{L}/u.test(raw)) return { kind: 'phi', why: 'name-shape' };
  // ID-like: six or more digits, or a short letter prefix and five or more (MRN242251, A17375455);
  // device readouts (127/128, 22.5, R15, 44CG43) do not have that shape.
  if (/^(?:\d{6,}|[A-Z]{1,4}[-#]?\d{5,}[A-Z]?)$/.test(up.replace(/^[#:]+/, ''))) return { kind: 'phi', why: 'id-pattern' };
  return { kind: 'text' };
}

export interface ClassifiedWord extends OcrWord { cls: WordClass }

/** Whether a more specific reason may replace this class: anything but noise and PHI, and the bare ID shape. */
function weaker(c: WordClass): boolean {
  return c.kind !== 'noise' && (c.kind !== 'phi' || c.why === 'id-pattern');
}

/**
 * Classifies every OCR word of one image: matched against the file's own identifying attributes
 * (fuzzily, since OCR misreads glyphs), then by PHI patterns (dates, ID-like tokens, name shapes,
 * Han names, words after a label such as "Name:" or "姓名"), then as harmless annotation.
 */
export function classifyWords(words: OcrWord[], attrs: IdentifyingAttributes, minConfidence = 55): ClassifiedWord[] {
  const out: ClassifiedWord[] = words.map((w) => ({ ...w, cls: classifyAlone(w, minConfidence) }));
  const needles = needlesOf(attrs);
  const lines = new Map<number, ClassifiedWord[]>();
  for (const w of out) lines.set(w.line, [...(lines.get(w.line) ?? []), w]);
  for (const lineWords of lines.values()) {
    // The line as one string (no separators: OCR splits and joins words unpredictably), with
    // the word each character came from, so a match maps back to boxes.
    let text = '';
    const owner: number[] = [];
    lineWords.forEach((w, i) => {
      const n = fold(normalise(w.text));
      text += n;
      for (let k = 0; k < n.length; k++) owner.push(i);
    });
    const mark = (from: number, to: number, why: PhiKind) => {
      for (let c = Math.max(0, from); c <= Math.min(to, owner.length - 1); c++) {
        const w = lineWords[owner[c]];
        if (weaker(w.cls)) w.cls = { kind: 'phi', why };
      }
    };
    for (const needle of needles) {
      if (needle.text.length > text.length + tolerance(needle.text.length)) continue;
      const hit = approximateFind(needle.text, text);
      if (hit.end >= 0 && hit.distance <= tolerance(needle.text.length)) mark(hit.end - needle.text.length + 1, hit.end, needle.why);
    }
    const raw = lineWords.map((w) => w.text).join(' ').replace(/[\u2010-\u2015\u2212]/g, '-');
    for (const re of DATE_PATTERNS) {
      const m = re.exec(raw);
      if (!m) continue;
      // Map the match back to words by character offsets in the space-joined line.
      let pos = 0;
      for (const w of lineWords) {
        const end = pos + w.text.length;
        if (end > m.index && pos < m.index + m[0].length && weaker(w.cls)) w.cls = { kind: 'phi', why: 'date-pattern' };
        pos = end + 1;
      }
    }
    // Everything after a label on its line (up to the next label) is what the label announces.
    let labelled = false;
    for (const w of lineWords) {
      const n = normalise(w.text.replace(/[:：]+$/, ''));
      if (LABELS.test(n)) { labelled = true; continue; }
      if (labelled && w.cls.kind !== 'noise' && w.cls.kind !== 'phi' && w.cls.kind !== 'harmless') w.cls = { kind: 'phi', why: 'labelled' };
    }
    // An institution's line is the institution ("… Hospital", "…医院").
    if (/(HOSPITAL|CLINIC|MEDICAL|UNIVERSITY|INSTITUTE|医院|诊所|卫生院)/i.test(raw)) {
      for (const w of lineWords) if (w.cls.kind !== 'noise' && w.cls.kind !== 'harmless') w.cls = { kind: 'phi', why: 'institution' };
    }
  }
  return out;
}

function similarHeight(a: OcrWord, b: OcrWord): boolean {
  return a.box.h <= 1.7 * b.box.h && b.box.h <= 1.7 * a.box.h;
}

/** Whether `c` sits in the same block of text as `p`: on the same line or the next ones, about the same glyph size. */
function sameBlock(c: OcrWord, p: OcrWord): boolean {
  if (!similarHeight(c, p)) return false;
  const h = Math.max(c.box.h, p.box.h);
  const dy = Math.abs(c.box.y + c.box.h / 2 - (p.box.y + p.box.h / 2));
  if (dy > 2.2 * h) return false;
  const reach = dy < h / 2 ? 3 * h : 1.5 * h;
  return c.box.x <= p.box.x + p.box.w + reach && c.box.x + c.box.w >= p.box.x - reach;
}

/**
 * PHI comes in blocks (a patient header of name, ID and birth date). Text that is neither
 * harmless nor already PHI and sits in the block of a PHI word, on its line or the lines
 * around it at about the same size, is taken as more of it: a name OCR misread does not
 * escape because its neighbour, the ID, was read. Runs after every other rule.
 */
export function spreadThroughBlocks(words: ClassifiedWord[]): void {
  for (let round = 0; round < 6; round++) {
    let changed = false;
    const phi = words.filter((w) => w.cls.kind === 'phi');
    for (const w of words) {
      if (w.cls.kind !== 'text' && w.cls.kind !== 'unread') continue;
      if (phi.some((p) => sameBlock(w, p))) {
        w.cls = { kind: 'phi', why: 'adjacent' };
        changed = true;
      }
    }
    if (!changed) return;
  }
}
