import crypto from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/Principal.js';
import { AuditDecision } from '../entities/AuditEvent.js';

export interface AuditEntry {
  action: string;
  collectionId: number | null;
  resource: string;
  allow: boolean;
  reason: string;
}

/** Refusals by one caller of one action on one collection within this window share one row. */
export const DENIAL_WINDOW_MS = 10 * 60_000;

/**
 * Appends to the audit log with a plain insert outside the request's unit of work: a decision
 * is recorded even when what follows it fails, and a denied request has nothing to flush anyway.
 *
 * Refusals are counted, not listed (issue 22, point 5): anyone, anonymous included, can repeat a
 * refused attempt, so each refusal is an upsert on one row per caller (a user, or "anonymous"),
 * action, collection and 10-minute window, keyed by a unique digest. The log then grows by at most
 * callers × actions × collections rows per window whatever the request rate, and the owner still
 * reads who tried what, when first and last, and how often. Allowed decisions need a signed-in
 * user the policy let through, and stay one row each.
 */
export class AuditLog {
  constructor(private readonly em: EntityManager, private readonly user: Principal | null) {}

  async record(entry: AuditEntry, now = new Date()): Promise<void> {
    const knex = this.em.getKnex();
    const at = this.em.getPlatform().processDateProperty(now);
    const row = {
      at,
      actor: this.user?.id ?? null,
      action: entry.action,
      collection_id: entry.collectionId,
      resource: entry.resource.slice(0, 200),
      decision: entry.allow ? AuditDecision.ALLOW : AuditDecision.DENY,
      reason: entry.reason.slice(0, 500),
    };
    if (entry.allow) {
      await knex('audit_event').insert(row);
      return;
    }
    const window = Math.floor(now.getTime() / DENIAL_WINDOW_MS);
    const bucket = crypto.createHash('sha256').update(JSON.stringify([this.user?.id ?? null, entry.action, entry.collectionId, window])).digest('hex');
    await knex('audit_event').insert({ ...row, attempts: 1, last_at: at, bucket })
      .onConflict('bucket').merge({ attempts: knex.raw('audit_event.attempts + 1'), last_at: at });
  }
}
