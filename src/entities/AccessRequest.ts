import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Collection } from './Collection.js';

export enum AccessRequestState {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  REVOKED = 'REVOKED',
  /** An approval whose expiry has passed (derived on read; the row keeps APPROVED and expiresAt). */
  EXPIRED = 'EXPIRED',
}
registerEnumType(AccessRequestState, {
  name: 'AccessRequestState',
  description: 'PENDING until the data owner decides; APPROVED grants files until expiresAt (if any) or revocation.',
  valuesConfig: {
    PENDING: { description: 'Waiting for the data owner\'s decision.' },
    APPROVED: { description: 'Granted: the requester may download the collection\'s files until expiresAt, if set.' },
    REJECTED: { description: 'Refused by the data owner.' },
    REVOKED: { description: 'An approval withdrawn by the data owner.' },
    EXPIRED: { description: 'An approval whose expiresAt has passed.' },
  },
});

/** A researcher's request for the files of a controlled collection, and the owner's decision. */
@ObjectType({ description: 'A request for the files of a controlled collection: purpose, scope of use, pledge, and the data owner\'s decision.' })
@Entity({ tableName: 'access_request' })
@Index({ properties: ['collection', 'state'] })
@Index({ properties: ['requester', 'collection'] })
export class AccessRequest {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  /** The requester's subject (User.sub). */
  @Property({ length: 200 })
  requester!: string;

  @Field({ description: 'What the data will be used for.' })
  @Property({ type: 'text' })
  purpose!: string;

  @Field({ description: 'Scope of use: who will handle the data, where, and for how long.' })
  @Property({ type: 'text' })
  scopeOfUse!: string;

  @Field({ description: 'Institution the requester works for, as they stated it.' })
  @Property({ length: 300 })
  institution!: string;

  /** The requester's explicit pledge not to attempt re-identification; a request without it is refused. */
  @Field({ description: 'The requester pledged not to attempt to re-identify anyone (always true: requests without it are refused).' })
  @Property()
  pledgeNotToReidentify!: boolean;

  @Enum({ items: () => AccessRequestState, length: 16 })
  state: AccessRequestState = AccessRequestState.PENDING;

  @Field(() => String, { nullable: true, description: 'The reviewer\'s note on their decision or revocation.' })
  @Property({ type: 'text', nullable: true })
  decisionNote?: string | null;

  @Field(() => String, { nullable: true, description: 'Subject of the user who decided.' })
  @Property({ type: 'string', length: 200, nullable: true })
  reviewer?: string | null;

  @Field(() => Date, { description: 'When the data owner decided; null while PENDING.', nullable: true })
  @Property({ type: 'datetime', nullable: true })
  reviewedAt?: Date | null;

  /** Approvals may end on their own; null means until revoked. */
  @Field(() => Date, { nullable: true, description: 'When an approval ends; null means until revoked.' })
  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date | null;

  @Field({ description: 'When the request was made.' })
  @Property()
  createdAt: Date = new Date();

  @Field({ description: 'When the request last changed state.' })
  @Property()
  updatedAt: Date = new Date();
}
