import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { isHeld } from '../src/access/blobs.js';
import { mayViewPixelsOf } from '../src/access/pixels.js';
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

  @FieldResolver(() => Boolean, {
    description: 'Whether the archive holds this image\'s DICOM file (primary or backup copy). False for metadata-only rows, as the full-scale benchmark seed (`npm run seed -- --scale 1`) writes them: they have no thumbnail, no download and a hash code borrowed from a real image of the same kind, or none.',
  })
  async stored(@Root() image: Image, @Ctx() ctx: RequestContext): Promise<boolean> {
    return !!ctx.ingest && (await isHeld(ctx.ingest.store, image.sha256));
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'SHA-256 of the stored (de-identified) file, hex. Null for callers who may not view the image\'s pixels (a CONTROLLED collection without an approved request): a digest confirms whether someone holds a given file.',
  })
  async sha256(@Root() image: Image, @Ctx() ctx: RequestContext): Promise<string | null> {
    return (await mayViewPixelsOf(ctx, image)) ? image.sha256 : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: '64-bit deep-hash code, 16 hex digits; null until hashed, and for callers who may not view the image\'s pixels (the code describes them).',
  })
  async hashCode(@Root() image: Image, @Ctx() ctx: RequestContext): Promise<string | null> {
    return image.hashCode && (await mayViewPixelsOf(ctx, image)) ? image.hashCode : null;
  }
}
