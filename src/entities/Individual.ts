import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Directive, Field, Int, ObjectType } from 'type-graphql';
import { Sex } from '../domain.js';
import { Collection } from './Collection.js';

/** A human or non-human organism that was imaged, with its clinical data. */
// A federation entity: other subgraphs reference it by accession (issue 6).
@Directive('@key(fields: "accession")')
@ObjectType({ description: 'An individual (I + 6 digits) with clinical data and an optional GSA-Human link.' })
@Entity({ tableName: 'individual' })
@Index({ properties: ['collection', 'id'] })
@Index({ properties: ['age'] })
export class Individual {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'Archive accession, I followed by six digits (e.g. I000001).' })
  @Property({ length: 16, unique: true })
  accession!: string;

  // Indexed together with id (see the class decorator) for per-collection pages.
  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @Field(() => Sex, { description: 'Sex as recorded in the clinical data (UNKNOWN when none was given).' })
  @Enum({ items: () => Sex })
  @Index()
  sex: Sex = Sex.UNKNOWN;

  @Field(() => Int, { nullable: true, description: 'Age in years at the first examination.' })
  @Property({ type: 'integer', nullable: true })
  age?: number | null;

  @Field({ description: 'Species, as a scientific name.' })
  @Property({ length: 100 })
  species: string = 'Homo sapiens';

  @Field(() => String, { nullable: true, description: 'Disease or diagnosis.' })
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  disease?: string | null;

  @Field(() => String, { nullable: true, description: 'Pathological type (e.g. "endometrioid adenocarcinoma").' })
  @Property({ type: 'string', length: 200, nullable: true })
  pathologicalType?: string | null;

  @Field(() => String, { description: 'Relevant medical history from the clinical data, free text.', nullable: true })
  @Property({ type: 'text', nullable: true })
  medicalHistory?: string | null;

  @Field(() => String, { description: 'Relevant family history from the clinical data, free text.', nullable: true })
  @Property({ type: 'text', nullable: true })
  familyHistory?: string | null;

  @Field(() => String, { description: 'Treatment received, from the clinical data, free text.', nullable: true })
  @Property({ type: 'text', nullable: true })
  treatment?: string | null;

  @Field(() => String, { nullable: true, description: 'Accession of the linked GSA-Human individual, if any.' })
  @Property({ type: 'string', length: 32, nullable: true })
  @Index()
  gsaHumanAccession?: string | null;
}
