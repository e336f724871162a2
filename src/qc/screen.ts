import type { EntityManager } from '@mikro-orm/knex';
import fs from 'node:fs';
import { Submission, SubmissionFile } from '../entities/index.js';
import { QcEvent, QcEventKind } from '../entities/QcEvent.js';
import { FileState } from '../entities/SubmissionFile.js';
import { checkFile } from './checks.js';
import { findInconsistencies } from './consistency.js';
import { findDuplicates } from './duplicates.js';
import type { FileFacts } from './facts.js';
import { recordQcEvent } from './events.js';
import { QcReason, type QcFinding } from './reasons.js';

export interface ScreenSummary {
  screened: number;
  quarantined: number;
  duplicates: number;
  /** Pixel duplicates recorded in the history but left to proceed (pixelDuplicates: 'report'). */
  reported: number;
}

export interface ScreenOptions {
  /**
   * 'set-aside' (default): a file whose pixels equal an earlier file's under another UID is a
   * DUPLICATE. 'report': it proceeds and a QcEvent names the twin, for callers whose inputs
   * legitimately repeat pixels (synthetic test series made from one slice).
   */
  pixelDuplicates?: 'set-aside' | 'report';
}

/**
 * Runs the QC checks over a submission's RECEIVED files before the pipeline de-identifies
 * them: per-file checks first, then the cross-file ones (mixed patients, mixed series,
 * geometry, duplicates) over the files that passed. Failing files are set QUARANTINED or
 * DUPLICATE with a reason, which the pipeline treats as final and skips. Files screened in an
 * earlier run are already past RECEIVED, so each file is read here once.
 */
export async function screenSubmission(em: EntityManager, readStaged: (stagingPath: string) => Promise<Uint8Array>, submissionId: number, opts: ScreenOptions = {}): Promise<ScreenSummary> {
  const files = await em.find(SubmissionFile, { submission: submissionId, state: FileState.RECEIVED }, { orderBy: { id: 'asc' } });
  const verdicts = new Map<number, { state: FileState; finding: QcFinding }>();
  const readable: { key: number; facts: FileFacts }[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readStaged(file.stagingPath);
    } catch {
      continue; // The pipeline reports a missing staged file (STAGING_MISSING) itself.
    }
    // Native pixels are proven complete by their length; only compressed streams need a decode.
    const r = await checkFile(bytes, { decodePixels: 'compressed' });
    if (r.findings.length) verdicts.set(file.id, { state: FileState.QUARANTINED, finding: r.findings[0] });
    else readable.push({ key: file.id, facts: r.facts! });
  }
  for (const f of findInconsistencies(readable.map(({ key, facts }) => ({ key, ...facts })))) {
    if (!verdicts.has(f.key)) verdicts.set(f.key, { state: FileState.QUARANTINED, finding: f });
  }
  const dup = findDuplicates(readable.filter((r) => !verdicts.has(r.key))
    .map(({ key, facts }) => ({ key, sopInstanceUid: facts.sopInstanceUid, pixelSha256: facts.pixelData?.sha256 ?? null })));
  const reports: { key: number; message: string }[] = [];
  for (const d of dup.duplicates) {
    const message = `${d.message} (file ${d.of})`;
    if (d.reason === QcReason.DUPLICATE_PIXELS && opts.pixelDuplicates === 'report') reports.push({ key: d.key, message });
    else verdicts.set(d.key, { state: FileState.DUPLICATE, finding: { reason: d.reason, message } });
  }

  for (const file of files) {
    const v = verdicts.get(file.id);
    if (v) Object.assign(file, { state: v.state, quarantineReason: v.finding.reason, quarantineMessage: v.finding.message });
  }
  await em.flush();
  if (reports.length) {
    const submission = await em.findOneOrFail(Submission, { id: submissionId });
    // A reported twin stays RECEIVED until the pipeline takes it, so a later screening sees it again: report once.
    const already = new Set((await em.find(QcEvent, { submission: submissionId, kind: QcEventKind.DUPLICATE, reason: QcReason.DUPLICATE_PIXELS }, { fields: ['subject'] })).map((e) => e.subject));
    for (const r of reports) {
      if (already.has(`file:${r.key}`)) continue;
      await recordQcEvent(em, {
        collectionId: submission.collection.id, submissionId, kind: QcEventKind.DUPLICATE, subject: `file:${r.key}`, actor: 'pipeline',
        reason: QcReason.DUPLICATE_PIXELS, message: `${r.message}; reported, not set aside`,
      });
    }
  }
  const all = [...verdicts.values()];
  return {
    screened: files.length, quarantined: all.filter((v) => v.state === FileState.QUARANTINED).length,
    duplicates: all.filter((v) => v.state === FileState.DUPLICATE).length, reported: reports.length,
  };
}

/** Reads a staged file through the staging area's path check. */
export function stagedReader(absolute: (stagingPath: string) => string): (stagingPath: string) => Promise<Uint8Array> {
  return async (p) => new Uint8Array(await fs.promises.readFile(absolute(p)));
}
