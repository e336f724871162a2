import { finding, QcReason, type QcFinding } from './reasons.js';

/** The slice of FileFacts cross-file checks read; `key` identifies the file to the caller. */
export interface ConsistencyInput<K> {
  key: K;
  patientId: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  rows: number | null;
  columns: number | null;
  bitsAllocated: number | null;
}

export interface ConsistencyFinding<K> extends QcFinding {
  key: K;
}

/**
 * The value most files of a group share; a tie goes to the value seen first, and `files`
 * must be in the order they were received, so the verdict is deterministic and the
 * submitter's first file defines the series.
 */
function majority<T>(files: T[], valueOf: (f: T) => string): string {
  const counts = new Map<string, number>();
  for (const f of files) {
    const v = valueOf(f);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let best = '';
  let bestCount = -1;
  // Map iteration follows insertion order, i.e. first appearance: ties keep the earlier value.
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

function groupBy<T>(files: T[], keyOf: (f: T) => string | null): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const f of files) {
    const k = keyOf(f);
    if (k === null) continue;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(f);
  }
  return groups;
}

const geometryOf = (f: ConsistencyInput<unknown>) => `${f.rows ?? '?'}x${f.columns ?? '?'}x${f.bitsAllocated ?? '?'}`;

/**
 * Cross-file checks over one submission's readable files (in received order). The majority
 * of a study or series is taken as what it is, and the minority files are flagged:
 * - MIXED_PATIENTS: a StudyInstanceUID whose files carry different PatientIDs;
 * - MIXED_SERIES: a series whose files disagree on patient or study;
 * - INCONSISTENT_GEOMETRY: a series whose files disagree on Rows, Columns or Bits Allocated.
 * A file gets at most one finding per reason. Messages give counts, never the IDs themselves.
 */
export function findInconsistencies<K>(files: ConsistencyInput<K>[]): ConsistencyFinding<K>[] {
  const out: ConsistencyFinding<K>[] = [];
  const flag = (key: K, f: QcFinding) => out.push({ key, ...f });

  for (const group of groupBy(files, (f) => f.studyInstanceUid).values()) {
    const patients = new Set(group.map((f) => f.patientId ?? ''));
    if (patients.size < 2) continue;
    const major = majority(group, (f) => f.patientId ?? '');
    const majorCount = group.filter((f) => (f.patientId ?? '') === major).length;
    for (const f of group) {
      if ((f.patientId ?? '') === major) continue;
      flag(f.key, finding(QcReason.MIXED_PATIENTS, `the study has images of ${patients.size} different patients; this file's patient differs from the one of ${majorCount} of its ${group.length} files`));
    }
  }

  for (const group of groupBy(files, (f) => f.seriesInstanceUid).values()) {
    const identity = (f: ConsistencyInput<K>) => `${f.patientId ?? ''}\u0000${f.studyInstanceUid ?? ''}`;
    const major = majority(group, identity);
    const [majorPatient, majorStudy] = major.split('\u0000');
    for (const f of group) {
      if (identity(f) === major) continue;
      const what = [(f.patientId ?? '') !== majorPatient ? 'patient' : null, (f.studyInstanceUid ?? '') !== majorStudy ? 'study' : null].filter(Boolean).join(' and ');
      flag(f.key, finding(QcReason.MIXED_SERIES, `the series' images disagree: this file's ${what} differs from the rest of the series`));
    }

    const geometries = new Set(group.map(geometryOf));
    if (geometries.size < 2) continue;
    const majorGeometry = majority(group, geometryOf);
    for (const f of group) {
      const g = geometryOf(f);
      if (g === majorGeometry) continue;
      // Geometry is not PHI, so the message may name it: it is what the submitter must fix.
      flag(f.key, finding(QcReason.INCONSISTENT_GEOMETRY, `rows x columns x bits allocated ${g} differ from the series' ${majorGeometry}`));
    }
  }
  return out;
}
