import { FileState } from '../entities/SubmissionFile.js';
import type { FileCheckResult } from './checks.js';
import { findInconsistencies } from './consistency.js';
import { findDuplicates } from './duplicates.js';
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

/** Runs the per-file checks on one staged file; null when its bytes are no longer staged. */
export type StagedCheck = (stagingPath: string) => Promise<FileCheckResult | null>;

/**
 * QC's screening rules over a submission's RECEIVED files, before anything is de-identified:
 * per-file checks first (several files at once: the pipeline runs them on its worker pool), then
 * the cross-file ones (mixed patients, mixed series, geometry, duplicates by UID and by pixels)
 * over the files that passed. Decides only; the pipeline's screen stage writes the verdicts (and
 * tells QC's observer) in batches.
 */
export async function screenFiles(files: readonly { id: number; stagingPath: string }[], check: StagedCheck): Promise<ScreenResult> {
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
  for (const f of findInconsistencies(readable.map(({ key, facts }) => ({ key, ...facts })))) {
    if (!verdicts.has(f.key)) verdicts.set(f.key, { state: FileState.QUARANTINED, finding: f });
  }
  const dup = findDuplicates(readable.filter((r) => !verdicts.has(r.key))
    .map(({ key, facts }) => ({ key, sopInstanceUid: facts.sopInstanceUid, pixelSha256: facts.pixelData?.sha256 ?? null })));
  for (const d of dup.duplicates) verdicts.set(d.key, { state: FileState.DUPLICATE, finding: { reason: d.reason, message: `${d.message} (file ${d.of})` } });

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
