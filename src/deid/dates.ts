// Modified Dates shifts whole days, so times of day are kept as they are and intervals
// between any two dates of one individual are preserved.

const DAY_MS = 86_400_000;

function shiftYmd(ymd: string, days: number): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(ymd);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const check = new Date(t);
  if (check.getUTCMonth() !== Number(m[2]) - 1 || check.getUTCDate() !== Number(m[3])) return null;
  const d = new Date(t + days * DAY_MS);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return null;
  return `${String(y).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Shifts one DA value, or a DA range "A-B", "A-", "-B". Returns null when unreadable. */
export function shiftDate(value: string, days: number): string | null {
  const v = value.trim().replace(/^(\d{4})\.(\d{2})\.(\d{2})$/, '$1$2$3');
  if (v === '') return '';
  if (v.includes('-')) {
    const [a, b, ...rest] = v.split('-');
    if (rest.length) return null;
    const sa = a === '' ? '' : shiftYmd(a, days);
    const sb = b === '' ? '' : shiftYmd(b, days);
    return sa === null || sb === null ? null : `${sa}-${sb}`;
  }
  return shiftYmd(v, days);
}

function shiftOneDateTime(v: string, days: number): string | null {
  if (v === '') return '';
  // YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]: only a full date can be shifted by days; a
  // partial one (year or year-month only) is kept as it is coarser than the shift.
  const m = /^(\d{4,8})(.*)$/.exec(v);
  if (!m) return null;
  if (m[1].length < 8) return m[1].length === 4 || m[1].length === 6 ? v : null;
  const date = shiftYmd(m[1].slice(0, 8), days);
  return date === null ? null : date + m[1].slice(8) + m[2];
}

const SINGLE_DT = /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/;

/**
 * Shifts one DT value or DT range, keeping time of day and UTC offset. "-" both separates
 * a range and signs an offset ("...-0500"), so a value that reads as a single DT is one;
 * otherwise the split that leaves two valid (or empty) ends is the range.
 */
export function shiftDateTime(value: string, days: number): string | null {
  const v = value.trim();
  if (v === '' || SINGLE_DT.test(v)) return shiftOneDateTime(v, days);
  for (let i = v.indexOf('-'); i >= 0; i = v.indexOf('-', i + 1)) {
    const a = v.slice(0, i);
    const b = v.slice(i + 1);
    if ((a === '' || SINGLE_DT.test(a)) && (b === '' || SINGLE_DT.test(b))) {
      const sa = shiftOneDateTime(a, days);
      const sb = shiftOneDateTime(b, days);
      return sa === null || sb === null ? null : `${sa}-${sb}`;
    }
  }
  return null;
}
