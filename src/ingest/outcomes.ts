import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { updateRows } from './batchWrites.js';
import type { FileOutcome, IngestObserver } from './stage.js';

/** Outcomes per transaction: a 100,000-file junk zip is written in bounded steps, each as cheap as the last. */
const PER_TRANSACTION = 400;

/**
 * Writes files' outcomes (QUARANTINED / DUPLICATE with the reason) and tells the observers, in
 * the same transaction, one statement per step whatever the submission's size. This is the only
 * place a file leaves the pipeline early, so QC hears of every quarantine and duplicate exactly
 * when it is decided, without re-reading rows.
 */
export class OutcomeWriter {
  private readonly observers: IngestObserver[] = [];

  constructor(private readonly orm: MikroORM) {}

  observe(observer: IngestObserver): void {
    if (!this.observers.includes(observer)) this.observers.push(observer);
  }

  async write(run: { submissionId: number; collectionId: number }, outcomes: readonly FileOutcome[]): Promise<void> {
    for (let at = 0; at < outcomes.length; at += PER_TRANSACTION) {
      const chunk = outcomes.slice(at, at + PER_TRANSACTION);
      await (this.orm.em.fork() as EntityManager).transactional(async (tx) => {
        await updateRows(tx, 'submission_file', chunk.map((o) => ({
          id: o.fileId, values: { state: o.kind, quarantine_reason: o.reason, quarantine_message: o.message },
        })));
        for (const o of this.observers) await o.record(tx, run, chunk);
      });
      for (const o of this.observers) o.committed(run, chunk);
    }
  }
}
