import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { registerEnumType } from 'type-graphql';
import { SubmissionFile } from './SubmissionFile.js';

export enum QuarantineAction {
  /** Run the file through the pipeline again, with the repair applied. */
  REPROCESS = 'REPROCESS',
  /** Leave the file out of the collection for good (its bytes stay in staging). */
  DISCARD = 'DISCARD',
}
registerEnumType(QuarantineAction, {
  name: 'QuarantineAction', description: 'How a quarantined file is resolved.',
  valuesConfig: {
    DISCARD: { description: 'Drop the file; it will not be archived.' },
    REPROCESS: { description: 'Send the file through the pipeline again, with the repair given.' },
  },
});

/**
 * Curation state of one received file beside its pipeline state: the curator's open repair
 * request and how a quarantine was resolved. A row exists only for files someone acted on.
 */
@Entity({ tableName: 'file_curation' })
@Unique({ properties: ['file'] })
export class FileCuration {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => SubmissionFile, { ref: true, index: false })
  file!: Ref<SubmissionFile>;

  @Property({ type: 'text', nullable: true })
  repairRequest?: string | null;

  @Property({ type: 'string', length: 200, nullable: true })
  repairRequestedBy?: string | null;

  @Property({ type: 'datetime', nullable: true })
  repairRequestedAt?: Date | null;

  @Enum({ items: () => QuarantineAction, nullable: true })
  resolution?: QuarantineAction | null;

  @Property({ type: 'string', length: 200, nullable: true })
  resolvedBy?: string | null;

  @Property({ type: 'datetime', nullable: true })
  resolvedAt?: Date | null;
}
