import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Submission } from './Submission.js';

export enum FileState {
  RECEIVED = 'RECEIVED',
  PARSED = 'PARSED',
  DEIDENTIFIED = 'DEIDENTIFIED',
  STORED = 'STORED',
  INDEXED = 'INDEXED',
  QUARANTINED = 'QUARANTINED',
  /** The same SOP instance (by its de-identified UID) is already in the archive; kept once. */
  DUPLICATE = 'DUPLICATE',
}
registerEnumType(FileState, {
  name: 'FileState', description: 'Where one received file is in the ingest pipeline.',
  valuesConfig: {
    RECEIVED: { description: 'Staged as received; not yet screened.' },
    PARSED: { description: 'Passed screening; its header has been read.' },
    DEIDENTIFIED: { description: 'De-identified (PS3.15 Annex E); not yet stored.' },
    STORED: { description: 'Stored in the archive (both copies verified); not yet indexed.' },
    INDEXED: { description: 'Catalogued, thumbnailed and hashed: in the archive.' },
    QUARANTINED: { description: 'Set aside with a reason; waits for a repair or a discard.' },
    DUPLICATE: { description: 'Another file carries the same instance (by UID or pixels); kept once.' },
  },
});

/** One received file and its progress; the row is the pipeline's durable checkpoint. */
@ObjectType({ description: 'One file of a submission and its pipeline state.' })
@Entity({ tableName: 'submission_file' })
@Index({ properties: ['submission', 'state'] })
export class SubmissionFile {
  @Field(() => ID, { description: 'The archive\'s id of the file; what `file:` arguments take.' })
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Submission, { ref: true, index: false })
  submission!: Ref<Submission>;

  /**
   * A neutral label ("uploaded file", "zip entry 12"): the name the file was sent under may
   * identify a patient, so it stays in the staging area (GraphQL `originalName` reads it there).
   */
  @Property({ length: 500 })
  originalName!: string;

  /** Relative to the staging root; staged bytes are never served. */
  @Property({ length: 500 })
  stagingPath!: string;

  @Field(() => Float, { description: 'Bytes received.' })
  @Property({ type: new BigIntType('number') })
  size!: number;

  @Field({ description: 'SHA-256 of the bytes as received, hex.' })
  @Property({ length: 64 })
  sha256!: string;

  @Field(() => FileState, { description: 'Where the file is in the pipeline.' })
  @Enum({ items: () => FileState })
  state: FileState = FileState.RECEIVED;

  @Field(() => String, { nullable: true, description: 'Machine-readable quarantine reason (e.g. PARSE_ERROR).', deprecationReason: 'Use `reason`, the QuarantineReason enum.' })
  @Property({ type: 'string', length: 64, nullable: true })
  quarantineReason?: string | null;

  @Field(() => String, { nullable: true, description: 'What was wrong, without attribute values.' })
  @Property({ type: 'text', nullable: true })
  quarantineMessage?: string | null;

  @Field(() => String, { nullable: true, description: 'Why the image is held for pixel review (possible burned-in text), if it is.' })
  @Property({ type: 'string', length: 500, nullable: true })
  heldForPixelReview?: string | null;

  /** HMAC of the local patient ID (localPatientKey), never the ID itself. */
  @Property({ type: 'string', length: 64, nullable: true })
  patientKey?: string | null;

  @Field(() => String, { nullable: true, description: 'De-identified SOPInstanceUID of the resulting image.' })
  @Property({ type: 'string', length: 64, nullable: true })
  @Index()
  imageUid?: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the stored de-identified file.' })
  @Property({ type: 'string', length: 64, nullable: true })
  storedSha256?: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the PNG thumbnail in the blob store.' })
  @Property({ type: 'string', length: 64, nullable: true })
  thumbnailSha256?: string | null;

  @Property()
  receivedAt: Date = new Date();
}
