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

/**
 * Appends to the audit log with a plain insert outside the request's unit of work: a decision
 * is recorded even when what follows it fails, and a denied request has nothing to flush anyway.
 */
export class AuditLog {
  constructor(private readonly em: EntityManager, private readonly user: Principal | null) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.em.getKnex()('audit_event').insert({
      at: this.em.getPlatform().processDateProperty(new Date()),
      actor: this.user?.id ?? null,
      action: entry.action,
      collection_id: entry.collectionId,
      resource: entry.resource.slice(0, 200),
      decision: entry.allow ? AuditDecision.ALLOW : AuditDecision.DENY,
      reason: entry.reason.slice(0, 500),
    });
  }
}
