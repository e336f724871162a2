import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Collection } from './Collection.js';
import { Individual } from './Individual.js';

/**
 * Which local patient became which Individual, so a later submission of the same patient to
 * the same collection lands on it. Keyed by localPatientKey (HMAC under the archive secret):
 * the local ID itself is never stored. Not exposed over GraphQL (access-restricted).
 */
@Entity({ tableName: 'patient_mapping' })
@Unique({ properties: ['collection', 'patientKey'] })
export class PatientMapping {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @Property({ length: 64 })
  patientKey!: string;

  @ManyToOne(() => Individual, { ref: true, index: true })
  individual!: Ref<Individual>;

  @Property()
  createdAt: Date = new Date();
}
