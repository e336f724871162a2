import { Entity, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum AuditDecision {
  ALLOW = 'ALLOW',
  DENY = 'DENY',
}
registerEnumType(AuditDecision, {
  name: 'AuditDecision', description: 'Whether the policy allowed or denied the action.',
  valuesConfig: {
    ALLOW: { description: 'The policy allowed the action.' },
    DENY: { description: 'The policy refused the action.' },
  },
});

/**
 * One access decision, request review or download. Written with plain inserts (src/access/AuditLog.ts)
 * so a decision is recorded even when the request's own unit of work fails afterwards.
 */
@ObjectType({ description: 'One audited access decision, request review or download.' })
@Entity({ tableName: 'audit_event' })
@Index({ properties: ['collectionId', 'id'] })
@Unique({ properties: ['bucket'] })
export class AuditEvent {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'When the decision was made.' })
  @Property()
  at: Date = new Date();

  /** The user's subject; null for anonymous callers. */
  @Field(() => String, { nullable: true, description: 'Subject of the user who acted; null for anonymous callers.' })
  @Property({ type: 'string', length: 200, nullable: true })
  actor?: string | null;

  @Field({ description: 'What was attempted (download, create_download_link, request_access, review_requests, …).' })
  @Property({ length: 40 })
  action!: string;

  /** The collection the decision concerns; null when the named object does not exist. */
  @Property({ type: 'integer', nullable: true, index: false })
  collectionId?: number | null;

  /** What was named: an accession, a UID or a request id, as given. */
  @Field({ description: 'What was named: an accession, a UID or an access request.' })
  @Property({ length: 200 })
  resource!: string;

  @Field(() => AuditDecision, { description: 'Whether the policy allowed or denied the action.' })
  @Enum({ items: () => AuditDecision, length: 8 })
  decision!: AuditDecision;

  @Field({ description: 'Why the policy decided as it did.' })
  @Property({ length: 500 })
  reason!: string;

  @Field(() => Int, { description: 'How many attempts this row stands for: 1 for an allowed decision; refusals are counted on one row per caller, action and collection per 10-minute window (the first attempt\'s time and resource are kept).' })
  @Property({ type: 'integer', default: 1 })
  attempts: number = 1;

  @Field(() => Date, { nullable: true, description: 'When the last refusal counted on this row happened; null for allowed decisions.' })
  @Property({ type: 'datetime', nullable: true })
  lastAt?: Date | null;

  /** For refusals: a digest of (caller, action, collection, window), unique, so a repeat adds to `attempts`. */
  @Property({ type: 'string', length: 64, nullable: true })
  bucket?: string | null;
}
