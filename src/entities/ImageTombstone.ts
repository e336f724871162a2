import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Collection } from './Collection.js';

/**
 * Why an image was withdrawn. The first four are the IHE IOCM rejection notes (DICOM CID 7011,
 * codes 113001, 113037, 113038, 113039); the last two are the archive's own.
 */
export enum WithdrawalReason {
  QUALITY = 'QUALITY',
  PATIENT_SAFETY = 'PATIENT_SAFETY',
  INCORRECT_WORKLIST_ENTRY = 'INCORRECT_WORKLIST_ENTRY',
  RETENTION_EXPIRED = 'RETENTION_EXPIRED',
  IDENTIFIABLE_INFORMATION = 'IDENTIFIABLE_INFORMATION',
  SUBMITTER_REQUEST = 'SUBMITTER_REQUEST',
}
registerEnumType(WithdrawalReason, {
  name: 'WithdrawalReason',
  description: 'Why an image was withdrawn: the IOCM rejection notes (QUALITY 113001, PATIENT_SAFETY 113037, INCORRECT_WORKLIST_ENTRY 113038, RETENTION_EXPIRED 113039) or the archive\'s IDENTIFIABLE_INFORMATION and SUBMITTER_REQUEST.',
  valuesConfig: {
    QUALITY: { description: 'Rejected for quality reasons (DCM 113001).' },
    PATIENT_SAFETY: { description: 'Rejected for patient safety reasons (DCM 113037).' },
    INCORRECT_WORKLIST_ENTRY: { description: 'Incorrect modality worklist entry: the image belongs to another patient or procedure (DCM 113038).' },
    RETENTION_EXPIRED: { description: 'Data retention policy expired (DCM 113039).' },
    IDENTIFIABLE_INFORMATION: { description: 'Identifiable information survived de-identification: the bytes are withheld from every version, earlier ones included.' },
    SUBMITTER_REQUEST: { description: 'Withdrawn at the submitter\'s request.' },
  },
});

/**
 * Reasons whose bytes are withheld from every version, including those released before the
 * withdrawal: identifiable information must stop being served. The tombstone is listed in every
 * version instead (never a silent hole); other withdrawals leave earlier versions as released.
 */
export const WITHHELD_FROM_ALL_VERSIONS: readonly WithdrawalReason[] = [WithdrawalReason.IDENTIFIABLE_INFORMATION];

/** The DICOM code of an IOCM rejection note, where the reason is one (DCM coding scheme). */
export const IOCM_CODES: Partial<Record<WithdrawalReason, string>> = {
  [WithdrawalReason.QUALITY]: '113001',
  [WithdrawalReason.PATIENT_SAFETY]: '113037',
  [WithdrawalReason.INCORRECT_WORKLIST_ENTRY]: '113038',
  [WithdrawalReason.RETENTION_EXPIRED]: '113039',
};

/**
 * What is left of a withdrawn image (IOCM-style): who withdrew it, when and why, and where it
 * was, so a version after the withdrawal lists it instead of leaving a silent hole. Earlier
 * versions keep their manifest entries (and the blob), so they stay downloadable as released.
 */
@ObjectType({ description: 'What is left of a withdrawn image (IOCM-style): where it was, why and when it was withdrawn. Versions after the withdrawal list it instead of leaving a hole.' })
@Entity({ tableName: 'image_tombstone' })
@Index({ properties: ['collection', 'id'] })
export class ImageTombstone {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @Field({ description: 'SOPInstanceUID of the withdrawn image.' })
  @Property({ length: 64, unique: true })
  sopInstanceUid!: string;

  @Field({ description: 'The series it belonged to.' })
  @Property({ length: 64 })
  seriesInstanceUid!: string;

  @Field({ description: 'The study it belonged to.' })
  @Property({ length: 16 })
  studyAccession!: string;

  @Field({ description: 'The individual it belonged to.' })
  @Property({ length: 16 })
  individualAccession!: string;

  @Field({ description: 'SHA-256 of the file as earlier versions hold it.' })
  @Property({ length: 64 })
  sha256!: string;

  @Field(() => Float, { description: 'Its size in bytes.' })
  @Property({ type: new BigIntType('number') })
  size!: number;

  @Field(() => WithdrawalReason, { description: 'Why it was withdrawn.' })
  @Enum({ items: () => WithdrawalReason })
  reason!: WithdrawalReason;

  @Field({ description: 'The curator\'s explanation.' })
  @Property({ type: 'text' })
  note!: string;

  @Property({ length: 200 })
  withdrawnBy!: string;

  @Field({ description: 'When it was withdrawn.' })
  @Property()
  withdrawnAt: Date = new Date();

  /** The first version that no longer holds the image; null until the next version is cut. */
  @Field(() => Int, { nullable: true, description: 'The first version without it; null until the next version is cut.' })
  @Property({ type: 'integer', nullable: true })
  firstAbsentFrom?: number | null;
}
