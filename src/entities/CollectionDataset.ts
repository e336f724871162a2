import { Entity, Index, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { Collection } from './Collection.js';

/**
 * A dataset at another repository that a controlled collection declares equivalent to itself
 * (its GSA-Human HRA…, dbGaP phs…, or EGA EGAD… dataset): a GA4GH ControlledAccessGrants visa
 * for that dataset grants this collection's files as an approved request would.
 */
@ObjectType('EquivalentDataset', { description: 'A dataset at another repository (GSA-Human, dbGaP, EGA, …) that a controlled collection declares equivalent: a GA4GH ControlledAccessGrants visa for it grants the collection\'s files.' })
@Entity({ tableName: 'collection_dataset' })
@Unique({ properties: ['collection', 'datasetId'] })
export class CollectionDataset {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  /** The visa `value` that names the dataset: an accession or the URL the data access committee uses. */
  @Field({ description: 'The dataset id a visa\'s `value` must name (e.g. HRA000001, phs000001.v1.p1).' })
  @Property({ length: 255 })
  @Index()
  datasetId!: string;

  /** Where the dataset lives (GSA-Human, dbGaP, EGA, …), for people. */
  @Field({ description: 'Where the dataset lives (GSA-Human, dbGaP, EGA, …).' })
  @Property({ length: 64 })
  repository!: string;

  @Property({ length: 200 })
  declaredBy!: string;

  @Field({ description: 'When it was declared.' })
  @Property()
  declaredAt: Date = new Date();
}
