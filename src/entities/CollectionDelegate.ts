import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Collection } from './Collection.js';

/** A user the collection's submitter lets act as its data owner (review requests, read the audit log). */
@Entity({ tableName: 'collection_delegate' })
@Unique({ properties: ['collection', 'userSub'] })
export class CollectionDelegate {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @Property({ length: 200, index: true })
  userSub!: string;

  @Property({ length: 200 })
  addedBy!: string;

  @Property()
  addedAt: Date = new Date();
}
