import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Collection } from '../src/entities/index.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';
import { fromPage } from './types/connection.js';
import { CollectionConnection, IndividualConnection } from './types/connections.js';
import { PageArgs } from './types/PageArgs.js';

@Resolver(() => Collection)
export class CollectionResolver {
  @Query(() => Collection, { nullable: true, description: 'A collection by accession (OBIA + 4 digits); null when there is none you may see.' })
  collection(@Arg('accession', { description: 'OBIA followed by 4 digits (e.g. OBIA0001).' }) accession: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.collection(accession);
  }

  @Query(() => CollectionConnection, { description: 'Collections matching the filter.' })
  async collections(@Args() page: PageArgs, @Arg('filter', () => BrowseFilterInput, { description: 'Only collections holding imaging that matches; every visible collection when omitted.', nullable: true }) filter: BrowseFilterInput | null, @Ctx() ctx: RequestContext) {
    return fromPage(CollectionConnection, await ctx.browse.collections(filter, page));
  }

  @FieldResolver(() => IndividualConnection, { description: 'Individuals of this collection.' })
  async individuals(@Root() collection: Collection, @Args() page: PageArgs, @Ctx() ctx: RequestContext) {
    return fromPage(IndividualConnection, await ctx.browse.individualsOf(collection, page));
  }
}
