import { Entity, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Directive, Field, Int, ObjectType } from 'type-graphql';
import { Collection } from './Collection.js';
import { Individual } from './Individual.js';

/** One examination of an individual. */
// A federation entity: other subgraphs reference it by accession (issue 6).
@Directive('@key(fields: "accession")')
@ObjectType({ description: 'A study (S + 8 digits): one examination, with its de-identified StudyInstanceUID.' })
@Entity({ tableName: 'study' })
export class Study {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'Archive accession, S followed by eight digits (e.g. S00000001).' })
  @Property({ length: 16, unique: true })
  accession!: string;

  @Field({ description: 'De-identified StudyInstanceUID.' })
  @Property({ length: 64, unique: true })
  studyInstanceUid!: string;

  @ManyToOne(() => Individual, { ref: true, index: true })
  individual!: Ref<Individual>;

  /** Denormalised from the individual so collection-scoped filters need no join. */
  @ManyToOne(() => Collection, { ref: true, index: true })
  collection!: Ref<Collection>;

  @Field(() => String, { description: 'StudyDescription, after de-identification (empty when cleaned or absent).', nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'Study date, shifted by the individual\'s de-identification offset (YYYY-MM-DD).' })
  @Property({ type: 'string', length: 10, nullable: true })
  studyDate?: string | null;

  @Field(() => Int, { nullable: true, description: 'Age of the individual at this study, in years.' })
  @Property({ type: 'integer', nullable: true })
  ageAtStudy?: number | null;

  @Field(() => [String], { description: 'Modalities present in the study.' })
  @Property({ type: 'json' })
  modalities: string[] = [];
}
