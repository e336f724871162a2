import type { EntityManager } from '@mikro-orm/knex';
import { Submission, SubmissionFile } from '../entities/index.js';
import { QcEvent, QcEventKind } from '../entities/QcEvent.js';
import { FileState } from '../entities/SubmissionFile.js';
import type { Ingest } from '../ingest/index.js';
import { recordQcEvent } from './events.js';

/**
 * Files the pipeline (or screening) quarantined or set aside as duplicates since the last
 * call get their QcEvent ("pipeline" as actor), once per outcome: a file reprocessed and
 * quarantined again gets a second one.
 */
export async function recordPipelineOutcomes(em: EntityManager, submissionId: number): Promise<number> {
  const files = await em.find(SubmissionFile, { submission: submissionId, state: { $in: [FileState.QUARANTINED, FileState.DUPLICATE] } }, { orderBy: { id: 'asc' } });
  if (files.length === 0) return 0;
  const events = await em.find(QcEvent, {
    submission: submissionId, kind: { $in: [QcEventKind.QUARANTINED, QcEventKind.DUPLICATE, QcEventKind.REPROCESSED] },
  }, { orderBy: { id: 'asc' }, fields: ['subject', 'kind'] });
  const last = new Map<string, QcEventKind>();
  for (const e of events) last.set(e.subject, e.kind);
  const submission = await em.findOneOrFail(Submission, { id: submissionId });
  let n = 0;
  for (const f of files) {
    const kind = f.state === FileState.DUPLICATE ? QcEventKind.DUPLICATE : QcEventKind.QUARANTINED;
    const subject = `file:${f.id}`;
    if (last.get(subject) === kind) continue;
    await recordQcEvent(em, {
      collectionId: submission.collection.id, submissionId, kind, subject, actor: 'pipeline',
      reason: f.quarantineReason ?? (kind === QcEventKind.DUPLICATE ? 'DUPLICATE_UID' : null),
      message: f.quarantineMessage ?? (kind === QcEventKind.DUPLICATE ? 'the archive already holds this SOP instance; kept once' : 'quarantined'),
    });
    n++;
  }
  return n;
}

const attached = new WeakSet<object>();
const running = new Map<number, Promise<number>>();

/**
 * recordPipelineOutcomes, one pass at a time per submission: the live listener and a reader
 * catching up must not both record the same outcome.
 */
export function syncPipelineOutcomes(em: EntityManager, submissionId: number): Promise<number> {
  const previous = running.get(submissionId) ?? Promise.resolve(0);
  const next = previous.catch(() => 0).then(() => recordPipelineOutcomes(em.fork() as EntityManager, submissionId));
  running.set(submissionId, next);
  void next.catch(() => 0).finally(() => { if (running.get(submissionId) === next) running.delete(submissionId); });
  return next;
}

/**
 * Listens to the pipeline's per-file progress and records quarantines and duplicates as QC
 * events while a run goes on (coalesced: at most one pass per submission every 200 ms,
 * and always one after the last file), so qcEvents subscribers hear of them live. `em` is
 * only forked from, never used itself, so a request's EntityManager will do.
 */
export function attachQcEvents(em: EntityManager, ingest: Ingest, log: (m: string) => void = () => {}): void {
  if (attached.has(ingest.pipeline)) return;
  attached.add(ingest.pipeline);
  const timers = new Map<number, NodeJS.Timeout>();
  ingest.pipeline.events.on('progress', (submissionId: number) => {
    if (timers.has(submissionId)) return;
    const t = setTimeout(() => {
      timers.delete(submissionId);
      syncPipelineOutcomes(em, submissionId)
        .catch((e) => log(`qc: could not record pipeline outcomes of submission ${submissionId} (${(e as Error)?.name})`));
    }, 200);
    t.unref();
    timers.set(submissionId, t);
  });
}
