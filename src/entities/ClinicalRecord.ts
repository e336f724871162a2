import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Sex } from '../domain.js';
import { Submission } from './Submission.js';

/**
 * Clinical data a submitter staged for one local patient, keyed by the patient's HMAC
 * (localPatientKey); applied to the Individual when the patient's images are mapped.
 */
@Entity({ tableName: 'clinical_record' })
@Unique({ properties: ['submission', 'patientKey'] })
export class ClinicalRecord {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Submission, { ref: true, index: false })
  submission!: Ref<Submission>;

  @Property({ length: 64 })
  patientKey!: string;

  @Enum({ items: () => Sex })
  sex: Sex = Sex.UNKNOWN;

  @Property({ type: 'integer', nullable: true })
  age?: number | null;

  @Property({ length: 100 })
  species: string = 'Homo sapiens';

  @Property({ type: 'string', length: 200, nullable: true })
  disease?: string | null;

  @Property({ type: 'string', length: 200, nullable: true })
  pathologicalType?: string | null;

  @Property({ type: 'text', nullable: true })
  medicalHistory?: string | null;

  @Property({ type: 'text', nullable: true })
  familyHistory?: string | null;

  @Property({ type: 'text', nullable: true })
  treatment?: string | null;

  /** The patient's GSA-Human individual (HRI…) or dataset (HRA…) accession, as the submitter linked it. */
  @Property({ type: 'string', length: 32, nullable: true })
  gsaHumanAccession?: string | null;

  /** Set once the record has been copied onto an Individual. */
  @Property({ type: 'boolean', default: false })
  applied: boolean = false;
}
