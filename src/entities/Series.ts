import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Directive, Field, Int, ObjectType } from 'type-graphql';
import { Collection } from './Collection.js';
import { Individual } from './Individual.js';
import { Study } from './Study.js';

/** A series of images acquired in one study with one modality. */
// A federation entity: other subgraphs reference it by uid (issue 6).
@Directive('@key(fields: "uid")')
@ObjectType({ description: 'A series, identified by its de-identified SeriesInstanceUID.' })
@Entity({ tableName: 'series' })
@Index({ properties: ['modality', 'anatomicalSite', 'id'] })
@Index({ properties: ['anatomicalSite', 'id'] })
@Index({ properties: ['collection', 'modality'] })
// Covers the statistics scan: counts per collection/modality/site read the index, not the rows.
@Index({ name: 'series_statistics_index', properties: ['collection', 'modality', 'anatomicalSite', 'individual', 'study', 'imageCount', 'published'] })
export class Series {
  [OptionalProps]?: 'published';

  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'De-identified SeriesInstanceUID.' })
  @Property({ length: 64, unique: true })
  uid!: string;

  @ManyToOne(() => Study, { ref: true, index: true })
  study!: Ref<Study>;

  /** Denormalised ancestors: browse filters on series join at most one table. */
  @ManyToOne(() => Individual, { ref: true, index: true })
  individual!: Ref<Individual>;

  @ManyToOne(() => Collection, { ref: true, index: true })
  collection!: Ref<Collection>;

  @Field({ description: 'DICOM Modality (CT, MR, PT, …).' })
  @Property({ length: 16 })
  modality!: string;

  @Field(() => String, { nullable: true, description: 'Anatomical site, as a BodyPartExamined defined term (CHEST, PELVIS, …).' })
  @Property({ type: 'string', length: 32, nullable: true })
  anatomicalSite?: string | null;

  @Field(() => String, { nullable: true, description: 'SeriesDescription, after de-identification (empty when cleaned or absent).' })
  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null;

  @Field(() => Int, { nullable: true, description: 'SeriesNumber within the study, when recorded.' })
  @Property({ type: 'integer', nullable: true })
  seriesNumber?: number | null;

  @Field(() => Int, { description: 'Number of images in the series.' })
  @Property({ default: 0 })
  imageCount: number = 0;

  /**
   * Passed by a curator in a released collection: only then do callers other than its submitter
   * and curators see the series, its images and its pixels (src/browse/visibility.ts). Set for
   * every series when a collection is released, and by a PASS review after that; a series that
   * arrives in an already released collection stays unpublished until a curator passes it.
   */
  @Property({ default: false })
  published: boolean = false;
}
