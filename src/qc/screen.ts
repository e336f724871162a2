import { FileState } from '../entities/SubmissionFile.js';
import type { FileCheckResult } from './checks.js';
import { findInconsistencies, type ConsistencyInput } from './consistency.js';
import { findDuplicates, type DuplicateInput } from './duplicates.js';
import type { FileFacts } from './facts.js';
import type { QcFinding } from './reasons.js';

/** Files checked at once: enough to keep every worker busy while results come back. */
const CHECKS_IN_FLIGHT = 8;

export interface ScreenSummary {
  screened: number;
  quarantined: number;
  duplicates: number;
}

export interface ScreenResult {
  summary: ScreenSummary;
  /** Files that fail, with the state they go to (QUARANTINED or DUPLICATE) and why. */
  verdicts: Map<number, { state: FileState.QUARANTINED | FileState.DUPLICATE; finding: QcFinding }>;
  /** What was learnt of each file that passed, by file id: the pipeline need not parse it again to map it. */
  passed: Map<number, FileFacts>;
}

/**
 * What earlier screenings of the same run saw (a run that starts while files are still arriving
 * screens them in rounds): a round's cross-file checks count the earlier rounds' files, so a file
 * of a study or series begun in an earlier round is judged by the whole group, and a file that
 * duplicates one kept earlier is a duplicate. A verdict already given stands (those files are
 * archived by then): a later round can only decide about its own files. Bounded: beyond
 * MAX_HISTORY files, later rounds are checked against the first MAX_HISTORY only.
 */
export class ScreenHistory {
  static readonly MAX_HISTORY = 500_000;
  readonly readable: ConsistencyInput<number>[] = [];
  readonly kept: DuplicateInput<number>[] = [];
}

/** Runs the per-file checks on one staged file; null when its bytes are no longer staged. */
export type StagedCheck = (stagingPath: string) => Promise<FileCheckResult | null>;

/**
 * QC's screening rules over a submission's RECEIVED files, before anything is de-identified:
 * per-file checks first (several files at once: the pipeline runs them on its worker pool), then
 * the cross-file ones (mixed patients, mixed series, geometry, duplicates by UID and by pixels)
 * over the files that passed. Decides only; the pipeline's screen stage writes the verdicts (and
 * tells QC's observer) in batches.
 */
export async function screenFiles(files: readonly { id: number; stagingPath: string }[], check: StagedCheck, history?: ScreenHistory): Promise<ScreenResult> {
  const results = new Array<FileCheckResult | null>(files.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(files.length, CHECKS_IN_FLIGHT) }, async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await check(files[i].stagingPath);
    }
  }));
  const verdicts: ScreenResult['verdicts'] = new Map();
  const readable: { key: number; facts: FileFacts }[] = [];
  files.forEach((file, i) => {
    const r = results[i];
    if (!r) return; // The pipeline reports a missing staged file (STAGING_MISSING) itself.
    if (r.findings.length) verdicts.set(file.id, { state: FileState.QUARANTINED, finding: r.findings[0] });
    else readable.push({ key: file.id, facts: r.facts! });
  });
  const consistency = readable.map(({ key, facts }): ConsistencyInput<number> => ({
    key, patientId: facts.patientId, studyInstanceUid: facts.studyInstanceUid, seriesInstanceUid: facts.seriesInstanceUid,
    rows: facts.rows, columns: facts.columns, bitsAllocated: facts.bitsAllocated,
  }));
  // Earlier rounds' files come first (received order); only this round's files get verdicts here.
  const own = new Set(readable.map((r) => r.key));
  for (const f of findInconsistencies([...(history?.readable ?? []), ...consistency])) {
    if (own.has(f.key) && !verdicts.has(f.key)) verdicts.set(f.key, { state: FileState.QUARANTINED, finding: f });
  }
  const candidates = readable.filter((r) => !verdicts.has(r.key))
    .map(({ key, facts }): DuplicateInput<number> => ({ key, sopInstanceUid: facts.sopInstanceUid, pixelSha256: facts.pixelData?.sha256 ?? null }));
  // Files kept earlier were unique among themselves, so only this round's files can be duplicates.
  const dup = findDuplicates([...(history?.kept ?? []), ...candidates]);
  for (const d of dup.duplicates) verdicts.set(d.key, { state: FileState.DUPLICATE, finding: { reason: d.reason, message: `${d.message} (file ${d.of})` } });
  if (history && history.readable.length < ScreenHistory.MAX_HISTORY) {
    history.readable.push(...consistency);
    history.kept.push(...candidates.filter((c) => !verdicts.has(c.key)));
  }

  const all = [...verdicts.values()];
  return {
    summary: {
      screened: files.length, quarantined: all.filter((v) => v.state === FileState.QUARANTINED).length,
      duplicates: all.filter((v) => v.state === FileState.DUPLICATE).length,
    },
    verdicts,
    passed: new Map(readable.filter((r) => !verdicts.has(r.key)).map((r) => [r.key, r.facts])),
  };
}
