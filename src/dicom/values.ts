// The one set of value helpers. dcmjs hands values back as strings, numbers, arrays, person-name
// objects ({ Alphabetic }) or ArrayBuffers depending on the VR, the transfer syntax and whether it
// naturalized the dataset; every reader used to coerce them its own way. These agree on one.
import type { DicomDataset } from './dcmjs';

/** A single value: the first of a multi-value, a person name's alphabetic group, or null for binary/absent. */
export function scalar(v: unknown): string | number | null {
  if (Array.isArray(v)) return scalar(v[0]);
  if (v && typeof v === 'object' && 'Alphabetic' in (v as object)) return scalar((v as { Alphabetic: unknown }).Alphabetic);
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/**
 * `s` without its trailing padding (NUL or space), in linear time. The regular expression every
 * reader used, /[\0 ]+$/, backtracks from each run of padding inside the string to its end: a
 * value of 27,000 NULs between two letters took 0.5 s to trim, 30,000 took 0.9 s (test/dicom/fuzz).
 */
export function stripPadding(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0 && c !== 0x20) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** A text value with DICOM's padding (trailing NUL or space) and surrounding blanks removed; null when empty. */
export function text(v: unknown): string | null {
  const s0 = scalar(v);
  if (s0 === null) return null;
  const s = stripPadding(String(s0)).trim();
  return s === '' ? null : s;
}

/** A DICOM UID (PS3.5 §9.1): dot-separated numbers without leading zeros, at most 64 characters. */
export function isUid(value: string): boolean {
  return value.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(value);
}

/** An integer (IS, US, SS, UL, SL …) within the 32-bit range; null when absent or not an integer. */
export function int(v: unknown): number | null {
  const s = text(v);
  if (s === null || !/^[+-]?\d+$/.test(s)) return null;
  const n = Number.parseInt(s, 10);
  return Math.abs(n) < 2 ** 31 ? n : null;
}

/** A decimal (DS, FL, FD); null when absent or not a finite number. */
export function decimal(v: unknown): number | null {
  const s = text(v);
  if (s === null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** A DA value (YYYYMMDD, or the ACR-NEMA YYYY.MM.DD) as an ISO date; null when it is not one. */
export function isoDate(v: unknown): string | null {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})/.exec(text(v) ?? '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && y > 0 ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** An AS value (045Y, 006M, 010W, 003D) in whole years; null when it is not one. */
export function ageYears(v: unknown): number | null {
  const m = /^(\d{3})([DWMY])$/.exec(text(v) ?? '');
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'Y' ? n : m[2] === 'M' ? Math.floor(n / 12) : m[2] === 'W' ? Math.floor(n / 52) : Math.floor(n / 365);
}

/** A PN value's components (PS3.5 §6.2: family^given^middle^prefix^suffix of the alphabetic group). */
export interface PersonName { family: string | null; given: string | null; middle: string | null; prefix: string | null; suffix: string | null }

export function personName(v: unknown): PersonName | null {
  const s = text(v);
  if (s === null) return null;
  const alphabetic = s.split('=')[0];
  const [family, given, middle, prefix, suffix] = alphabetic.split('^').map((p) => p.trim() || null);
  return { family: family ?? null, given: given ?? null, middle: middle ?? null, prefix: prefix ?? null, suffix: suffix ?? null };
}

/**
 * A value as one line of text for a human reader (census rows, review screens): multi-values
 * joined with a backslash as DICOM writes them, person names by their alphabetic group, binary
 * values by their length only. Long texts are cut at `max` characters.
 */
export function render(v: unknown, max = 256): string {
  const one = (x: unknown): string => {
    if (x instanceof ArrayBuffer || ArrayBuffer.isView(x)) return `<${(x as ArrayBuffer).byteLength} bytes>`;
    if (x && typeof x === 'object' && 'Alphabetic' in (x as object)) return String((x as { Alphabetic: unknown }).Alphabetic ?? '');
    if (x && typeof x === 'object') return '<sequence item>';
    return x === undefined || x === null ? '' : stripPadding(String(x));
  };
  const s = Array.isArray(v) ? v.map(one).join('\\') : one(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The VRs whose values are bytes (bulk data in DICOM JSON). */
export const BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** One value as bytes, without a copy: dcmjs gives an ArrayBuffer, ingest hands over views of what it holds; null when not binary. */
export function byteView(v: unknown): Uint8Array | null {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

/**
 * A binary element's values (one or more ArrayBuffers or views, as dcmjs gives them) as one run
 * of bytes: the value itself when it is one, else a joined copy. Values that are not bytes are
 * left out (a caller that must have them all checks `values.every(byteView)` first).
 */
export function binaryBytes(values: readonly unknown[]): Uint8Array {
  const parts = values.map(byteView).filter((b): b is Uint8Array => b !== null);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Accessors on a tag-keyed dataset: `tagText(ds, '00100020')`. */
export const tagText = (ds: DicomDataset | undefined, tag: string): string | null => text(ds?.[tag]?.Value);
export const tagInt = (ds: DicomDataset | undefined, tag: string): number | null => int(ds?.[tag]?.Value);
export const tagDecimal = (ds: DicomDataset | undefined, tag: string): number | null => decimal(ds?.[tag]?.Value);
