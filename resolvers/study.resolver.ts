import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Collection, Individual, Series, Study } from '../src/entities/index.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';
import { fromPage } from './types/connection.js';
import { StudyConnection } from './types/connections.js';
import { PageArgs } from './types/PageArgs.js';

@Resolver(() => Study)
export class StudyResolver {
  @Query(() => Study, { nullable: true, description: 'A study by accession (S + 8 digits).' })
  study(@Arg('accession', { description: 'S followed by 8 digits (e.g. S00000001).' }) accession: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.study(accession);
  }

  @Query(() => StudyConnection, { description: 'Studies matching the filter.' })
  async studies(@Args() page: PageArgs, @Arg('filter', () => BrowseFilterInput, { description: 'Only studies matching; every visible study when omitted.', nullable: true }) filter: BrowseFilterInput | null, @Ctx() ctx: RequestContext) {
    return fromPage(StudyConnection, await ctx.browse.studies(filter, page));
  }

  @FieldResolver(() => Individual, { description: 'The individual examined.' })
  individual(@Root() study: Study, @Ctx() ctx: RequestContext) {
    return ctx.loaders.individualById.load(study.individual.id);
  }

  @FieldResolver(() => Collection, { description: 'The collection the study belongs to.' })
  collection(@Root() study: Study, @Ctx() ctx: RequestContext) {
    return ctx.loaders.collectionById.load(study.collection.id);
  }

  @FieldResolver(() => [Series], { description: 'Every series of this study (a study holds a handful), in series order.' })
  seriesList(@Root() study: Study, @Ctx() ctx: RequestContext) {
    return ctx.loaders.seriesByStudy.load(study.id);
  }

  @FieldResolver(() => [Series], {
    description: 'Every series of this study.',
    deprecationReason: 'Use seriesList: `series` names one series everywhere else. Removed in the next release.',
  })
  series(@Root() study: Study, @Ctx() ctx: RequestContext) {
    return ctx.loaders.seriesByStudy.load(study.id);
  }
}
