import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../auth/Principal.js';

/**
 * A person the archive has seen: recorded from their token's claims on first sight and kept
 * current on later visits, so a data owner can see who asks for their data.
 */
@ObjectType({ description: 'A user the archive has seen, as their identity provider described them.' })
// "user" is a reserved word in some SQL dialects.
@Entity({ tableName: 'user_account' })
export class User {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field(() => ID, { name: 'id', description: 'Subject identifier at the issuer (the token\'s `sub`).' })
  @Property({ length: 200, unique: true })
  sub!: string;

  @Field(() => String, { nullable: true, description: 'Display name from the identity token, when the issuer sends one.' })
  @Property({ type: 'string', length: 300, nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address from the identity token, when the issuer sends one.' })
  @Property({ type: 'string', length: 300, nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Institution the identity provider names.' })
  @Property({ type: 'string', length: 300, nullable: true })
  institution?: string | null;

  @Field(() => [Role], { description: 'Roles the user held at the last request seen.' })
  @Property({ type: 'json' })
  roles: Role[] = [];

  @Field({ description: 'When the archive first saw a token for this user.' })
  @Property()
  firstSeen: Date = new Date();

  @Field({ description: 'Last time the archive recorded a request from this user (to within a few minutes).' })
  @Property()
  lastSeen: Date = new Date();
}
