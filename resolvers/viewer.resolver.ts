import { Ctx, Field, ID, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../src/auth/Principal.js';
import type { RequestContext } from '../src/context.js';

@ObjectType({ description: 'The signed-in user, as the archive sees them.' })
class Viewer {
  @Field(() => ID, { description: 'Subject identifier at the issuer.' })
  id!: string;

  @Field(() => String, { description: 'Display name from the identity token, when the issuer sends one.', nullable: true })
  name!: string | null;

  @Field(() => String, { description: 'Institution from the identity token, when the issuer sends one.', nullable: true })
  institution!: string | null;

  @Field(() => [Role], { description: 'What the caller may do: researcher, submitter, curator, admin.' })
  roles!: Role[];
}

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer, { nullable: true, description: 'Who the request is authenticated as; null for anonymous requests.' })
  viewer(@Ctx() ctx: RequestContext) {
    return ctx.user;
  }
}
