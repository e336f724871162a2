import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/** The next number to hand out for one accession kind; only ever incremented, so accessions are never reused. */
@Entity({ tableName: 'accession_counter' })
export class AccessionCounter {
  @PrimaryKey({ length: 16 })
  kind!: string;

  @Property({ type: 'integer' })
  nextValue!: number;
}
