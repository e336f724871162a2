import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Collection, Individual, Series, Study } from '../src/entities/index.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';
import { fromPage } from './types/connection.js';
import { ImageConnection, SeriesConnection } from './types/connections.js';
import { PageArgs } from './types/PageArgs.js';

@Resolver(() => Series)
export class SeriesResolver {
  @Query(() => Series, { nullable: true, description: 'A series by its de-identified SeriesInstanceUID.' })
  series(@Arg('uid', { description: 'The series\' de-identified SeriesInstanceUID.' }) uid: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.seriesByUid(uid);
  }

  @Query(() => SeriesConnection, { name: 'seriesList', description: 'Series matching the filter.' })
  async seriesList(@Args() page: PageArgs, @Arg('filter', () => BrowseFilterInput, { description: 'Only series matching; every visible series when omitted.', nullable: true }) filter: BrowseFilterInput | null, @Ctx() ctx: RequestContext) {
    return fromPage(SeriesConnection, await ctx.browse.series(filter, page));
  }

  @FieldResolver(() => Study, { description: 'The study the series belongs to.' })
  study(@Root() series: Series, @Ctx() ctx: RequestContext) {
    return ctx.loaders.studyById.load(series.study.id);
  }

  @FieldResolver(() => Individual, { description: 'The individual the series was taken of.' })
  individual(@Root() series: Series, @Ctx() ctx: RequestContext) {
    return ctx.loaders.individualById.load(series.individual.id);
  }

  @FieldResolver(() => Collection, { description: 'The collection the series belongs to.' })
  collection(@Root() series: Series, @Ctx() ctx: RequestContext) {
    return ctx.loaders.collectionById.load(series.collection.id);
  }

  @FieldResolver(() => ImageConnection, { description: 'Images of this series, in archive order.' })
  async images(@Root() series: Series, @Args() page: PageArgs, @Ctx() ctx: RequestContext) {
    return fromPage(ImageConnection, await ctx.browse.imagesOf(series, page));
  }
}
