import type { DeidOptions } from './types';
import { loadRuleTable } from './ruleTables';

/** A single resolved action of PS3.15 E.1.1. */
export type Action = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U';

interface TableRow {
  name: string;
  tag: string;
  basicProfile: string;
  rtnSafePrivOpt?: string;
  rtnDevIdOpt?: string;
  rtnPatCharsOpt?: string;
  rtnLongModifDatesOpt?: string;
  cleanDescOpt?: string;
  [column: string]: string | undefined;
}

export interface ProfileRule {
  name: string;
  /** The table's code after options, possibly combined (e.g. "X/Z/D"). */
  code: string;
  /** The Basic Profile code: its D says the attribute needs a non-empty value (Type 1). */
  basicCode: string;
  action: Action;
}

// Which Table E.1-1 column each DeidOptions flag switches on. Clean Pixel Data has no
// column: it acts on Pixel Data (burnedIn.ts).
const OPTION_COLUMNS: [keyof DeidOptions, string][] = [
  ['cleanDescriptors', 'cleanDescOpt'],
  ['retainLongitudinalModifiedDates', 'rtnLongModifDatesOpt'],
  ['retainPatientCharacteristics', 'rtnPatCharsOpt'],
  ['retainDeviceIdentity', 'rtnDevIdOpt'],
  ['retainSafePrivate', 'rtnSafePrivOpt'],
];

/**
 * Attributes that are Type 1 in the IODs where they appear, so an X/D or Z/D code must
 * become a dummy (D) rather than disappear or be emptied. We carry no IOD module tables;
 * this list covers the combined-code rows whose Type 1 usage we know of.
 */
const TYPE1_WHEN_PRESENT = new Set<string>([
  '00700084', // Content Creator's Name: Type 1 in some Presentation State/Segmentation contexts
]);

/**
 * Combined codes, resolved without the IOD: for the top level of a dataset whose IOD
 * src/deid/data/iod_requirements.json covers, src/deid/iod.ts resolveForIod decides instead
 * (D for Type 1, Z for Type 2, X otherwise); this rule is for other IODs and sequence items:
 * - U* (X/Z/U*): keep the sequence and clean its items recursively, remapping the UIDs.
 *   Remapped UIDs carry nothing identifying and the references stay usable; it is valid
 *   whatever the sequence's Type.
 * - otherwise D when the attribute is in TYPE1_WHEN_PRESENT and D is allowed;
 * - otherwise Z when allowed: a zero-length value carries nothing and is valid for Type 2
 *   and Type 3, so it is as conservative as X but cannot break a Type 2 attribute;
 * - otherwise (X/D) X.
 */
export function resolveCombined(code: string, tag: string): Action {
  if (!code.includes('/')) return code as Action;
  const parts = code.split('/');
  if (parts.includes('U*')) return 'U';
  if (parts.includes('D') && TYPE1_WHEN_PRESENT.has(tag)) return 'D';
  if (parts.includes('Z')) return 'Z';
  return 'X';
}

/**
 * "A requirement for an Option, when implemented, overrides any requirement for the
 * underlying Profile." When two enabled options disagree (Retain Device Identity K vs
 * Modified Dates C on calibration dates) the standard gives no precedence; C is chosen
 * because shifting a date reveals less than keeping it.
 */
export function effectiveCode(row: TableRow, options: DeidOptions): string {
  const codes = OPTION_COLUMNS.filter(([flag]) => options[flag]).map(([, column]) => row[column]).filter((c): c is string => !!c);
  if (codes.length === 0) return row.basicProfile;
  return codes.includes('C') ? 'C' : codes[0];
}

interface PatternRule { mask: number; value: number; rule: ProfileRule }

export interface Profile {
  /** Rule for a standard (even group) tag written "ggggeeee", or undefined when the table does not list it. */
  ruleFor(tag: string): ProfileRule | undefined;
  /** Rule of the "(GGGG,EEEE) where GGGG is odd" row. */
  privateRule: ProfileRule;
  options: DeidOptions;
}

function parsePattern(tag: string): { mask: number; value: number } {
  const digits = tag.replace(/[(),]/g, '').toUpperCase();
  let mask = 0;
  let value = 0;
  for (const d of digits) {
    mask = mask * 16 + (d === 'X' ? 0 : 15);
    value = value * 16 + (d === 'X' ? 0 : parseInt(d, 16));
  }
  return { mask, value };
}

const cache = new Map<string, Profile>();

export function buildProfile(options: DeidOptions): Profile {
  const key = JSON.stringify(options);
  const cached = cache.get(key);
  if (cached) return cached;
  const exact = new Map<string, ProfileRule>();
  const patterns: PatternRule[] = [];
  let privateRule: ProfileRule | undefined;
  for (const row of loadRuleTable<TableRow[]>('table_e1_1.json')) {
    const code = effectiveCode(row, options);
    if (/GGGG/i.test(row.tag)) {
      privateRule = { name: row.name, code, basicCode: row.basicProfile, action: code === 'C' ? 'C' : resolveCombined(code, 'private') };
      continue;
    }
    const tag = row.tag.replace(/[(),]/g, '').toUpperCase();
    if (!/^[0-9A-FX]{8}$/.test(tag)) throw new Error(`Table E.1-1 row with unreadable tag ${row.tag}`);
    const rule: ProfileRule = { name: row.name, code, basicCode: row.basicProfile, action: resolveCombined(code, tag) };
    if (tag.includes('X')) patterns.push({ ...parsePattern(tag), rule });
    else exact.set(tag, rule);
  }
  if (!privateRule) throw new Error('Table E.1-1 lacks the private attributes row');
  const profile: Profile = {
    options,
    privateRule,
    ruleFor(tag: string): ProfileRule | undefined {
      const hit = exact.get(tag);
      if (hit) return hit;
      if (patterns.length === 0) return undefined;
      const n = parseInt(tag, 16) >>> 0;
      for (const p of patterns) if (((n & p.mask) >>> 0) === p.value) return p.rule;
      return undefined;
    },
  };
  cache.set(key, profile);
  return profile;
}
