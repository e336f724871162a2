import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Collection } from './Collection.js';
import { Submission } from './Submission.js';

export enum QcEventKind {
  QUARANTINED = 'QUARANTINED',
  DUPLICATE = 'DUPLICATE',
  SERIES_PASSED = 'SERIES_PASSED',
  SERIES_FAILED = 'SERIES_FAILED',
  REPAIR_REQUESTED = 'REPAIR_REQUESTED',
  REPROCESSED = 'REPROCESSED',
  DISCARDED = 'DISCARDED',
  RELEASE_REFUSED = 'RELEASE_REFUSED',
  RELEASED = 'RELEASED',
}
registerEnumType(QcEventKind, {
  name: 'QcEventKind', description: 'What a quality-control or curation decision was.',
  valuesConfig: {
    QUARANTINED: { description: 'The pipeline quarantined a file.' },
    DUPLICATE: { description: 'The pipeline set a file aside as a duplicate.' },
    SERIES_PASSED: { description: 'A curator passed a series.' },
    SERIES_FAILED: { description: 'A curator failed a series.' },
    REPAIR_REQUESTED: { description: 'A curator asked the submitter to repair a file.' },
    REPROCESSED: { description: 'A quarantined file was sent through the pipeline again.' },
    DISCARDED: { description: 'A quarantined file was discarded.' },
    RELEASE_REFUSED: { description: 'Release of the collection was refused, with its blockers.' },
    RELEASED: { description: 'The collection was released.' },
  },
});

/**
 * One quality-control or curation decision: who, when, what and why. Append-only; the
 * submission's history is these rows in order. Collection-wide decisions (release) carry no
 * submission and belong to the history of every submission of the collection.
 */
@ObjectType({ description: 'A quality-control or curation decision: who, when, what and why.' })
@Entity({ tableName: 'qc_event' })
@Index({ properties: ['submission', 'id'] })
@Index({ properties: ['collection', 'id'] })
export class QcEvent {
  @Field(() => ID, { description: 'The archive\'s id of this event; later events have larger ids.' })
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @ManyToOne(() => Submission, { ref: true, index: false, nullable: true })
  submission?: Ref<Submission> | null;

  @Field(() => QcEventKind, { description: 'What was decided (quarantine, duplicate, review verdict, repair, release, …).' })
  @Enum({ items: () => QcEventKind })
  kind!: QcEventKind;

  @Field({ description: 'What the decision is about: "file:<id>", "series:<uid>" or "collection:<accession>".' })
  @Property({ length: 200 })
  subject!: string;

  @Field({ description: 'Subject of the user who decided, or "pipeline" for automatic checks.' })
  @Property({ length: 200 })
  actor!: string;

  @Field(() => String, { nullable: true, description: 'Machine-readable reason (quarantine code, verdict, blocker).' })
  @Property({ type: 'string', length: 64, nullable: true })
  reason?: string | null;

  @Field({ description: 'Why, in words: a curator\'s note, a repair request, or what a check found.' })
  @Property({ type: 'text' })
  message: string = '';

  @Field({ description: 'When the decision was made.' })
  @Property()
  at: Date = new Date();
}
