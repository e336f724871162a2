import type { EntityManager } from '@mikro-orm/knex';
import { Collection, Submission } from '../entities/index.js';
import { QcEvent, type QcEventKind } from '../entities/QcEvent.js';
import { pubSub, Topic } from '../events/pubsub.js';

export interface QcEventInput {
  collectionId: number;
  /** Null for collection-wide decisions (release): they are announced to every submission of the collection. */
  submissionId: number | null;
  kind: QcEventKind;
  subject: string;
  actor: string;
  reason: string | null;
  message: string;
}

/**
 * Writes the event with whatever else the EntityManager holds (one flush, so a decision and
 * its record land together) and then announces it. Announcing after the commit means a
 * subscriber never hears of a decision that was rolled back.
 */
export async function recordQcEvent(em: EntityManager, e: QcEventInput): Promise<QcEvent> {
  const event = em.create(QcEvent, {
    collection: em.getReference(Collection, e.collectionId),
    submission: e.submissionId === null ? null : em.getReference(Submission, e.submissionId),
    kind: e.kind, subject: e.subject, actor: e.actor, reason: e.reason, message: e.message, at: new Date(),
  });
  await em.flush();
  const targets = e.submissionId !== null
    ? [e.submissionId]
    : (await em.find(Submission, { collection: e.collectionId }, { fields: ['id'] })).map((s) => s.id);
  for (const id of targets) {
    pubSub.publish(Topic.QC_EVENTS, String(id), { submissionId: String(id), kind: e.kind, subject: e.subject, message: e.message, at: event.at });
  }
  return event;
}
