import type { EntityManager } from '@mikro-orm/knex';
import fs from 'node:fs';
import { SubmissionFile } from '../entities/index.js';
import { FileState } from '../entities/SubmissionFile.js';
import { checkFile, type FileCheckResult } from './checks.js';
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
  /** What was learnt of each file that passed, by file id: the pipeline need not parse it again to map it. */
  passed: Map<number, FileFacts>;
}

/** Runs the per-file checks on one staged file; null when its bytes are no longer staged. */
export type StagedCheck = (stagingPath: string) => Promise<FileCheckResult | null>;

/**
 * Runs the QC checks over a submission's RECEIVED files before the pipeline de-identifies
 * them: per-file checks first (several files at once: the pipeline's check runs on its worker
 * pool), then the cross-file ones (mixed patients, mixed series, geometry, duplicates by UID
 * and by pixels) over the files that passed. Failing files are set QUARANTINED or DUPLICATE
 * with a reason, which the pipeline treats as final and skips. Files screened in an earlier
 * run are already past RECEIVED, so each file is read here once.
 */
export async function screenSubmission(em: EntityManager, check: StagedCheck, submissionId: number): Promise<ScreenSummary> {
  const files = await em.find(SubmissionFile, { submission: submissionId, state: FileState.RECEIVED }, { orderBy: { id: 'asc' } });
  const results = new Array<FileCheckResult | null>(files.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(files.length, CHECKS_IN_FLIGHT) }, async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await check(files[i].stagingPath);
    }
  }));
  const verdicts = new Map<number, { state: FileState; finding: QcFinding }>();
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

  for (const file of files) {
    const v = verdicts.get(file.id);
    if (v) Object.assign(file, { state: v.state, quarantineReason: v.finding.reason, quarantineMessage: v.finding.message });
  }
  await em.flush();
  const all = [...verdicts.values()];
  return {
    screened: files.length, quarantined: all.filter((v) => v.state === FileState.QUARANTINED).length,
    duplicates: all.filter((v) => v.state === FileState.DUPLICATE).length,
    passed: new Map(readable.filter((r) => !verdicts.has(r.key)).map((r) => [r.key, r.facts])),
  };
}

/** Checks staged files in this thread, through the staging area's path check (the pipeline uses its worker pool instead). */
export function stagedChecker(absolute: (stagingPath: string) => string): StagedCheck {
  return async (p) => {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(absolute(p));
    } catch {
      return null;
    }
    // Native pixels are proven complete by their length; only compressed streams need a decode.
    return checkFile(bytes, { decodePixels: 'compressed' });
  };
}
