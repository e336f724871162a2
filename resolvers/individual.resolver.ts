import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Collection, Individual, Study } from '../src/entities/index.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';
import { fromPage } from './types/connection.js';
import { IndividualConnection } from './types/connections.js';
import { PageArgs } from './types/PageArgs.js';

@Resolver(() => Individual)
export class IndividualResolver {
  @Query(() => Individual, { nullable: true, description: 'An individual by accession (I + 6 digits).' })
  individual(@Arg('accession', { description: 'I followed by 6 digits (e.g. I000001).' }) accession: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.individual(accession);
  }

  @Query(() => IndividualConnection, { description: 'Individuals matching the filter.' })
  async individuals(@Args() page: PageArgs, @Arg('filter', () => BrowseFilterInput, { description: 'Only individuals matching; every visible individual when omitted.', nullable: true }) filter: BrowseFilterInput | null, @Ctx() ctx: RequestContext) {
    return fromPage(IndividualConnection, await ctx.browse.individuals(filter, page));
  }

  @FieldResolver(() => Collection, { description: 'The collection this individual belongs to.' })
  collection(@Root() individual: Individual, @Ctx() ctx: RequestContext) {
    return ctx.loaders.collectionById.load(individual.collection.id);
  }

  @FieldResolver(() => [Study], { description: 'Studies (examinations) of this individual, oldest first.' })
  studies(@Root() individual: Individual, @Ctx() ctx: RequestContext) {
    return ctx.loaders.studiesByIndividual.load(individual.id);
  }
}
