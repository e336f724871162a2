import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Accessibility } from '../domain.js';
import { Collection } from './Collection.js';

export enum SubmissionState {
  /** Accepting files and clinical data. */
  OPEN = 'OPEN',
  /** An ingest run (processSubmission) is going over its files. */
  PROCESSING = 'PROCESSING',
  /** Every received file has reached a final state (indexed, quarantined or duplicate). */
  PROCESSED = 'PROCESSED',
}
registerEnumType(SubmissionState, { name: 'SubmissionState', description: 'Where a submission is in the ingest pipeline.' });

/** The de-identification options a submission asked for (PS3.15 Annex E options, as in src/deid). */
@ObjectType({ description: 'De-identification options applied to a submission (PS3.15 Annex E).' })
export class DeidOptionsView {
  @Field() cleanPixelData!: boolean;
  @Field() cleanDescriptors!: boolean;
  @Field() retainLongitudinalModifiedDates!: boolean;
  @Field() retainPatientCharacteristics!: boolean;
  @Field() retainDeviceIdentity!: boolean;
  @Field() retainSafePrivate!: boolean;
}

/** A submitter's deposit: metadata for the collection it fills, and the files it received. */
@ObjectType({ description: 'A submission: files and clinical data on their way into a collection.' })
@Entity({ tableName: 'submission' })
export class Submission {
  @Field(() => ID, { description: 'The archive\'s id of the submission; what `submission:` arguments take.' })
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field()
  @Property({ length: 500 })
  title!: string;

  @Field()
  @Property({ type: 'text' })
  description: string = '';

  @Field(() => [String])
  @Property({ type: 'json' })
  keywords: string[] = [];

  @Field()
  @Property({ length: 200 })
  disease!: string;

  @Field(() => Accessibility)
  @Enum({ items: () => Accessibility })
  accessibility: Accessibility = Accessibility.OPEN;

  @Field(() => String, { nullable: true, description: 'BioProject accession (PRJCA/PRJNA/PRJEB/PRJDB + digits).' })
  @Property({ type: 'string', length: 32, nullable: true })
  bioProjectAccession?: string | null;

  @Field(() => DeidOptionsView)
  @Property({ type: 'json' })
  deidOptions!: DeidOptionsView;

  @Field({ description: 'Subject of the submitting user.' })
  @Property({ length: 200 })
  @Index()
  submitter!: string;

  @Field(() => SubmissionState)
  @Enum({ items: () => SubmissionState })
  state: SubmissionState = SubmissionState.OPEN;

  /** The collection the files land in: a new DRAFT one, or an existing one a curator named. */
  @ManyToOne(() => Collection, { ref: true, index: true })
  collection!: Ref<Collection>;

  @Field()
  @Property()
  createdAt: Date = new Date();
}
