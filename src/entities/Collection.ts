import { BeforeCreate, BeforeUpdate, Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ObjectType } from 'type-graphql';
import { Accessibility, ReleaseState } from '../domain.js';

export enum UidScope { ARCHIVE = 'ARCHIVE', COLLECTION = 'COLLECTION' }

/** One complete submission to the archive, identified by an `OBIA` + 4-digit accession. */
// A federation entity: other subgraphs reference it by accession (issue 6).
@Directive('@key(fields: "accession")')
@ObjectType({ description: 'A collection: one complete submission (OBIA accession), with its disease, access policy and BioProject link.' })
@Entity({ tableName: 'collection' })
@Index({ properties: ['releaseState', 'accessibility'] })
export class Collection {
  [OptionalProps]?: 'searchText' | 'description' | 'keywords' | 'accessibility' | 'releaseState' | 'createdAt' | 'uidScope';

  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'Archive accession, OBIA followed by four digits (e.g. OBIA0001).' })
  @Property({ length: 16, unique: true })
  accession!: string;

  @Field({ description: 'Title of the collection.' })
  @Property({ length: 500 })
  title!: string;

  @Field({ description: 'Free-text description of what was collected and why.' })
  @Property({ type: 'text' })
  description: string = '';

  @Field(() => [String], { description: 'Keywords given by the submitter.' })
  @Property({ type: 'json' })
  keywords: string[] = [];

  /** Lower-cased title, description and keywords: one column the keyword search can scan. */
  @Property({ type: 'text', hidden: true })
  searchText: string = '';

  /** Kept in step with what it indexes on every write through the ORM (bulk seed loads set it themselves). */
  @BeforeCreate()
  @BeforeUpdate()
  refreshSearchText(): void {
    this.searchText = [this.title, this.description, ...(this.keywords ?? [])].join(' ').toLowerCase();
  }

  @Field({ description: 'Disease studied (e.g. "ovarian cancer").' })
  @Property({ length: 200 })
  @Index()
  disease!: string;

  @Field({ description: 'Subject of the user who submitted the collection (its data owner).' })
  @Property({ length: 200 })
  @Index()
  submitter!: string;

  @Field(() => String, { nullable: true, description: 'Submitting organisation.' })
  @Property({ type: 'string', length: 300, nullable: true })
  submitterOrganization?: string | null;

  @Field(() => Accessibility, { description: 'OPEN: files public once released; CONTROLLED: files only on an approved access request.' })
  @Enum({ items: () => Accessibility })
  @Index()
  accessibility: Accessibility = Accessibility.OPEN;

  @Field(() => ReleaseState, { description: 'DRAFT while being submitted, IN_REVIEW while curated, RELEASED once public.' })
  @Enum({ items: () => ReleaseState })
  releaseState: ReleaseState = ReleaseState.DRAFT;

  @Field(() => String, { nullable: true, description: 'BioProject accession (PRJCA…, PRJNA…, PRJEB…, PRJDB…).' })
  @Property({ type: 'string', length: 32, nullable: true })
  @Index()
  bioProjectAccession?: string | null;

  /**
   * Which key its images' UIDs are remapped under (src/ingest/uidKey.ts): COLLECTION, its own, for
   * every collection created since keys were per collection, and for older ones that held no
   * image then; ARCHIVE, the archive secret itself, for collections that already held images
   * under it (their later files must meet the same UIDs). Not in the API.
   */
  @Property({ type: 'string', length: 16, default: UidScope.COLLECTION })
  uidScope: UidScope = UidScope.COLLECTION;

  @Field({ description: 'When the collection was created in the archive.' })
  @Property()
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When a curator released the collection.' })
  @Property({ type: 'datetime', nullable: true })
  releasedAt?: Date | null;

}
