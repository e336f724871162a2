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
registerEnumType(SubmissionState, {
  name: 'SubmissionState', description: 'Where a submission is in the ingest pipeline.',
  valuesConfig: {
    OPEN: { description: 'Accepting files and clinical data; not processed yet.' },
    PROCESSING: { description: 'An ingest run is going over its files.' },
    PROCESSED: { description: 'The last run has ended: every received file reached a final state (indexed, quarantined or duplicate).' },
  },
});

/** The de-identification options a submission asked for (PS3.15 Annex E options, as in src/deid). */
@ObjectType({ description: 'De-identification options applied to a submission (PS3.15 Annex E).' })
export class DeidOptionsView {
  @Field({ description: 'Clean Pixel Data: images that may carry burned-in text were held for pixel review.' }) cleanPixelData!: boolean;
  @Field({ description: 'Clean Descriptors: free-text descriptions that may identify were removed.' }) cleanDescriptors!: boolean;
  @Field({ description: 'Retain Longitudinal Temporal Information with Modified Dates: dates were shifted by a per-individual offset.' }) retainLongitudinalModifiedDates!: boolean;
  @Field({ description: 'Retain Patient Characteristics: sex, age, size and weight were kept.' }) retainPatientCharacteristics!: boolean;
  @Field({ description: 'Retain Device Identity: manufacturer, model and station attributes were kept.' }) retainDeviceIdentity!: boolean;
  @Field({ description: 'Retain Safe Private: private attributes that are purely numeric or listed as safe were kept.' }) retainSafePrivate!: boolean;
}

/** A submitter's deposit: metadata for the collection it fills, and the files it received. */
@ObjectType({ description: 'A submission: files and clinical data on their way into a collection.' })
@Entity({ tableName: 'submission' })
export class Submission {
  @Field(() => ID, { description: 'The archive\'s id of the submission; what `submission:` arguments take.' })
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'Title of the collection it fills.' })
  @Property({ length: 500 })
  title!: string;

  @Field({ description: 'Description of the collection it fills.' })
  @Property({ type: 'text' })
  description: string = '';

  @Field(() => [String], { description: 'Keywords of the collection it fills.' })
  @Property({ type: 'json' })
  keywords: string[] = [];

  @Field({ description: 'The disease the collection is about; the default disease of its individuals.' })
  @Property({ length: 200 })
  disease!: string;

  @Field(() => Accessibility, { description: 'Accessibility the collection will have once released.' })
  @Enum({ items: () => Accessibility })
  accessibility: Accessibility = Accessibility.OPEN;

  @Field(() => String, { nullable: true, description: 'BioProject accession (PRJCA/PRJNA/PRJEB/PRJDB + digits).' })
  @Property({ type: 'string', length: 32, nullable: true })
  bioProjectAccession?: string | null;

  @Field(() => DeidOptionsView, { description: 'The de-identification options its files are processed with.' })
  @Property({ type: 'json' })
  deidOptions!: DeidOptionsView;

  @Field({ description: 'Subject of the submitting user.' })
  @Property({ length: 200 })
  @Index()
  submitter!: string;

  @Field(() => SubmissionState, { description: 'OPEN until processed; PROCESSING while a run is under way; PROCESSED once it has ended.' })
  @Enum({ items: () => SubmissionState })
  state: SubmissionState = SubmissionState.OPEN;

  /**
   * The in-process run going over the submission now (an id per run; null when none), and when it
   * last said it is alive: two hubs asked to process it at once run it once (src/ingest/runLease.ts).
   * Not in the schema: which process runs it is the archive's business.
   */
  @Property({ type: 'string', length: 64, nullable: true })
  runOwner?: string | null;

  @Property({ type: 'datetime', nullable: true })
  runHeartbeatAt?: Date | null;

  /** The collection the files land in: a new DRAFT one, or an existing one a curator named. */
  @ManyToOne(() => Collection, { ref: true, index: true })
  collection!: Ref<Collection>;

  @Field({ description: 'When the submission was started.' })
  @Property()
  createdAt: Date = new Date();
}
