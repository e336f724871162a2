import { BadRequest } from './errors.js';
import { ATTRIBUTES, attributeOf, isKnownTag, levelsUpTo, tagOfKey, type Attribute, type Level } from './attributes.js';
import { isUid } from '../dicom/index.js';

/** Results one QIDO-RS answer holds at most: a broad query is cut here and says so (Warning 299). */
export const MAX_LIMIT = 1000;
/**
 * The deepest offset taken, by default: a database reaches an offset by reading every row before
 * it, so the offset is what a request makes it read. Up to 1,000,000,000 was taken, and an offset
 * past the end read every visible image to answer nothing (1.9 s on MariaDB at the paper's 1.94 M
 * images, anonymously). At this bound a deep page reads about what a full page of 1,000 costs to
 * write; a client reaching further narrows the query (a StudyInstanceUID, a date range).
 */
export const MAX_OFFSET = 100_000;
/** Longest query value taken (a UID list of a few hundred UIDs fits). */
const MAX_VALUE = 16 * 1024;

/** One matching key: the attribute and the parsed condition on it. */
export type Condition =
  | { attr: Attribute; kind: 'equal'; values: string[] }
  | { attr: Attribute; kind: 'like'; pattern: string }
  | { attr: Attribute; kind: 'range'; from: string | null; to: string | null };

/** A QIDO-RS request, parsed and checked (PS3.18 8.3.4). */
export interface QidoQuery {
  level: Level;
  conditions: Condition[];
  /** Attributes to return besides the level's defaults; `all` returns every one held. */
  include: Set<string> | 'all';
  limit: number;
  offset: number;
  fuzzy: boolean;
  /** Keys naming standard attributes the archive cannot match on: ignored, reported in a Warning header. */
  unsupported: string[];
}

const RESERVED = new Set(['limit', 'offset', 'includefield', 'fuzzymatching', 'accept', 'charset']);

function one(key: string, raw: unknown): string {
  const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof v !== 'string') throw new BadRequest(`${key} must be given once as a value`);
  if (v.length > MAX_VALUE) throw new BadRequest(`${key} is too long`);
  return v;
}

function integer(key: string, raw: unknown, min: number, max: number, hint = ''): number {
  const v = one(key, raw);
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) throw new BadRequest(`${key} must be an integer in ${min}..${max}${hint}`);
  return Number(v);
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;

/** A DA value (YYYYMMDD) as the archive stores it (YYYY-MM-DD). */
function isoDate(key: string, v: string): string {
  const m = DATE.exec(v.trim());
  // A day the calendar has: 20200231 or 20210229 matched nothing, silently, where a client
  // that mistyped a date should be told (and MariaDB compares such a string to a DATE with a warning).
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || Number(m[1]) < 1 || day!.getUTCMonth() !== Number(m[2]) - 1 || day!.getUTCDate() !== Number(m[3])) {
    throw new BadRequest(`${key} must be a date YYYYMMDD or a range of them`);
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** `*` and `?` (PS3.4 C.2.2.2.4) as a LIKE pattern, with LIKE's own characters escaped. */
function likePattern(v: string): string {
  // '!' escapes: a backslash would need escaping differently in MariaDB's and SQLite's string literals.
  return v.replace(/[!%_]/g, (c) => `!${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

function condition(attr: Attribute, key: string, v: string, fuzzy: boolean): Condition | null {
  // An empty value asks for the attribute to be returned, matching everything (C.2.2.2.3 universal matching).
  if (v === '' || v === '*') return null;
  switch (attr.matching) {
    case 'uid': {
      // UID list matching: backslash-separated per PS3.4, comma-separated as PS3.18 8.3.4.1 allows.
      const values = v.split(/[\\,]/).map((u) => u.trim()).filter(Boolean);
      if (values.length === 0 || values.length > 500 || values.some((u) => !isUid(u))) throw new BadRequest(`${key} must be a UID or a list of UIDs`);
      return { attr, kind: 'equal', values };
    }
    case 'date': {
      const dash = v.indexOf('-');
      if (dash < 0) return { attr, kind: 'equal', values: [isoDate(key, v)] };
      const from = v.slice(0, dash), to = v.slice(dash + 1);
      if (!from && !to) throw new BadRequest(`${key} range needs at least one end`);
      return { attr, kind: 'range', from: from ? isoDate(key, from) : null, to: to ? isoDate(key, to) : null };
    }
    case 'number': {
      const values = v.split(/[\\,]/);
      if (values.some((n) => !/^[+-]?\d{1,9}$/.test(n.trim()))) throw new BadRequest(`${key} must be an integer`);
      return { attr, kind: 'equal', values: values.map((n) => String(Number(n))) };
    }
    case 'sex': {
      const code = v.trim().toUpperCase();
      const value = code === 'F' ? 'FEMALE' : code === 'M' ? 'MALE' : code === 'O' ? 'OTHER' : null;
      if (!value) throw new BadRequest(`${key} must be F, M or O`);
      return { attr, kind: 'equal', values: [value] };
    }
    case 'age': {
      const m = /^(\d{3})Y$/.exec(v.trim());
      if (!m) throw new BadRequest(`${key} must be an age in years (nnnY)`);
      return { attr, kind: 'equal', values: [String(Number(m[1]))] };
    }
    case 'modalities': {
      const values = v.split(/[\\,]/).map((m) => m.trim()).filter(Boolean);
      if (values.length === 0 || values.some((m) => !/^[A-Z0-9_ ]{1,16}$/i.test(m))) throw new BadRequest(`${key} must be modality codes`);
      return { attr, kind: 'equal', values: values.map((m) => m.toUpperCase()) };
    }
    case 'person':
    case 'string': {
      // Fuzzy person-name matching: case-insensitive, and a name matches on its beginning (as Orthanc and dcm4chee do).
      const pattern = attr.matching === 'person' && fuzzy && !/[*?]/.test(v) ? `${v}*` : v;
      if (/[*?]/.test(pattern)) return { attr, kind: 'like', pattern: likePattern(pattern) };
      const values = attr.vr === 'CS' ? v.split('\\').map((x) => x.trim()).filter(Boolean) : [v];
      return { attr, kind: 'equal', values };
    }
    default:
      return null;
  }
}

/**
 * Parses a QIDO-RS query string (already percent-decoded by the HTTP layer; repeated keys arrive
 * as arrays). Attributes are named by keyword or tag. Bad values are 400 with a reason; a
 * standard attribute the archive does not hold is ignored and reported (PS3.18 8.3.4.1).
 */
export function parseQido(level: Level, query: Record<string, unknown>, bounds: { maxOffset?: number } = {}): QidoQuery {
  const q: QidoQuery = { level, conditions: [], include: new Set(), limit: MAX_LIMIT, offset: 0, fuzzy: false, unsupported: [] };
  const fuzzyRaw = query.fuzzymatching;
  if (fuzzyRaw !== undefined) {
    const f = one('fuzzymatching', fuzzyRaw);
    if (f !== 'true' && f !== 'false') throw new BadRequest('fuzzymatching must be true or false');
    q.fuzzy = f === 'true';
  }
  if (query.limit !== undefined) q.limit = Math.min(MAX_LIMIT, integer('limit', query.limit, 0, 1_000_000_000));
  if (query.offset !== undefined) {
    const max = bounds.maxOffset ?? MAX_OFFSET;
    q.offset = integer('offset', query.offset, 0, max, `; narrow the query (a StudyInstanceUID, a date range) to reach matches past the first ${max}`);
  }
  const levels = levelsUpTo(level);
  const includes = query.includefield === undefined ? [] : (Array.isArray(query.includefield) ? query.includefield : [query.includefield]);
  for (const raw of includes) {
    if (typeof raw !== 'string' || raw.length > MAX_VALUE) throw new BadRequest('includefield must be attribute names');
    for (const name of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (name === 'all') { q.include = 'all'; continue; }
      const tag = tagOfKey(name);
      if (!tag) throw new BadRequest(`includefield names an unknown attribute (${name.slice(0, 40)})`);
      if (q.include !== 'all') q.include.add(tag);
    }
  }
  for (const [key, raw] of Object.entries(query)) {
    if (RESERVED.has(key)) continue;
    if (key.length > 64) throw new BadRequest('a query key is too long');
    const tag = tagOfKey(key);
    if (!tag || !isKnownTag(tag)) throw new BadRequest(`unknown query key ${key.replace(/[^\w.-]/g, '?').slice(0, 40)}`);
    const attr = attributeOf(tag);
    const value = one(key, raw);
    if (!attr || !attr.matching || !levels.includes(attr.level)) {
      if (value !== '' && value !== '*') q.unsupported.push(tag);
      else if (q.include !== 'all') q.include.add(tag);
      continue;
    }
    const c = condition(attr, key, value, q.fuzzy);
    if (c) q.conditions.push(c);
    // A matching key is returned too (PS3.18 10.6.3.3.1).
    if (q.include !== 'all') q.include.add(tag);
  }
  return q;
}

/** The attributes an answer at `level` holds for this query. */
export function returnedAttributes(q: QidoQuery): Attribute[] {
  const levels = levelsUpTo(q.level);
  return ATTRIBUTES.filter((attr) => levels.includes(attr.level)
    && (q.include === 'all' || (attr.byDefault && (attr.level === q.level || attr.level === 'study')) || q.include.has(attr.tag)));
}
