import type { EntityManager } from '@mikro-orm/knex';
import { QcEvent, QcEventKind } from '../entities/QcEvent.js';
import { pubSub, Topic } from '../events/pubsub.js';
import type { FileOutcome, IngestObserver } from '../ingest/stage.js';

/**
 * QC's ear on the ingest pipeline (through the stage interface only): every quarantine and
 * duplicate becomes a QcEvent ("pipeline" as actor) in the same transaction that sets the
 * file's state, one multi-row insert per batch, and is announced to qcEvents subscribers once
 * committed. A file reprocessed and quarantined again gets a second event, as it should.
 */
export const qcObserver: IngestObserver = {
  async record(tx: EntityManager, run, outcomes) {
    if (outcomes.length === 0) return;
    const at = new Date();
    await tx.insertMany(QcEvent, outcomes.map((o) => ({
      collection: run.collectionId, submission: run.submissionId, kind: kindOf(o), subject: `file:${o.fileId}`,
      actor: 'pipeline', reason: o.reason, message: o.message, at,
    })));
  },
  committed(run, outcomes) {
    const at = new Date();
    for (const o of outcomes) {
      pubSub.publish(Topic.QC_EVENTS, String(run.submissionId), { submissionId: String(run.submissionId), kind: kindOf(o), subject: `file:${o.fileId}`, message: o.message, at });
    }
  },
};

function kindOf(o: FileOutcome): QcEventKind {
  return o.kind === 'DUPLICATE' ? QcEventKind.DUPLICATE : QcEventKind.QUARANTINED;
}

/** Registers QC's observer with the pipeline (idempotent); `em` and `log` are no longer needed and kept for callers. */
export function attachQcEvents(_em: EntityManager, ingest: { pipeline: { observe(o: IngestObserver): void } }, _log?: (m: string) => void): void {
  ingest.pipeline.observe(qcObserver);
}
