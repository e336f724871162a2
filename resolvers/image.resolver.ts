import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Image, Series } from '../src/entities/index.js';

@Resolver(() => Image)
export class ImageResolver {
  @Query(() => Image, { nullable: true, description: 'An image by its de-identified SOPInstanceUID.' })
  image(@Arg('uid', { description: 'The image\'s de-identified SOPInstanceUID.' }) uid: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.imageByUid(uid);
  }

  @FieldResolver(() => Series, { description: 'The series the image belongs to.' })
  series(@Root() image: Image, @Ctx() ctx: RequestContext) {
    return ctx.loaders.seriesById.load(image.series.id);
  }
}
