import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../src/auth/Principal.js';
import type { RequestContext } from '../src/context.js';

@ObjectType({ description: 'The signed-in user, as the archive sees them.' })
class Viewer {
  @Field({ description: 'Subject identifier at the issuer.' })
  id!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => String, { nullable: true })
  institution!: string | null;

  @Field(() => [Role])
  roles!: Role[];
}

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer, { nullable: true, description: 'Who the request is authenticated as; null for anonymous requests.' })
  viewer(@Ctx() ctx: RequestContext) {
    return ctx.user;
  }
}
