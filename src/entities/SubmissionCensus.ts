import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import type { TagCensusJson } from '../qc/TagCensus.js';
import { Submission } from './Submission.js';

/**
 * A submission's tag census (src/qc/TagCensus), persisted so queries read it instead of
 * re-reading files. `countedFiles` lists the SubmissionFile ids already in it, so catching
 * up after new files were stored (or a crash) adds each file exactly once.
 */
@Entity({ tableName: 'submission_census' })
@Unique({ properties: ['submission'] })
export class SubmissionCensus {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Submission, { ref: true, index: false })
  submission!: Ref<Submission>;

  @Property({ type: 'json' })
  census!: TagCensusJson;

  @Property({ type: 'json' })
  countedFiles: number[] = [];

  @Property()
  updatedAt: Date = new Date();
}
