import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Series } from './Series.js';

export enum QcVerdict {
  PASS = 'PASS',
  FAIL = 'FAIL',
}
registerEnumType(QcVerdict, {
  name: 'QcVerdict', description: 'A curator\'s verdict on a series after looking at it.',
  valuesConfig: {
    PASS: { description: 'The series is fit to release; also accepts its images held for pixel review.' },
    FAIL: { description: 'The series must not be released as it is.' },
  },
});

/** The current verdict on a series; earlier verdicts stay in the QcEvent history. */
@ObjectType({ description: 'A curator\'s current verdict on a series after visual inspection.' })
@Entity({ tableName: 'series_review' })
@Unique({ properties: ['series'] })
export class SeriesReview {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Series, { ref: true, index: false })
  series!: Ref<Series>;

  @Field(() => QcVerdict, { description: 'PASS or FAIL.' })
  @Enum({ items: () => QcVerdict })
  verdict!: QcVerdict;

  @Field({ description: 'What the curator saw.' })
  @Property({ type: 'text' })
  note: string = '';

  @Field({ description: 'Subject of the reviewing curator.' })
  @Property({ length: 200 })
  reviewer!: string;

  @Field({ description: 'When the verdict was given.' })
  @Property()
  reviewedAt: Date = new Date();
}
