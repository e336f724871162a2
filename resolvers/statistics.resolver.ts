import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';
import { Statistics } from './types/Statistics.js';

@Resolver()
export class StatisticsResolver {
  @Query(() => Statistics, { description: 'Counts of individuals, studies, series and images per collection, modality and anatomical site.' })
  statistics(@Arg('filter', () => BrowseFilterInput, { description: 'Count only what matches; the whole visible archive when omitted.', nullable: true }) filter: BrowseFilterInput | null, @Ctx() ctx: RequestContext) {
    return ctx.statistics.statistics(filter);
  }
}
