import { Arg, Ctx, Field, ID, InputType, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Image } from '../src/entities/index.js';
import type { Lineage } from '../src/similarity/lineage.js';
import { BrowseFilterInput } from './types/BrowseFilterInput.js';

@InputType({ description: 'The query image: exactly one of an archived image\'s UID or an uploaded image\'s id.' })
class ImageQueryInput {
  @Field(() => String, { nullable: true, description: 'SOPInstanceUID of an archived image.' })
  uid?: string | null;

  @Field(() => ID, { nullable: true, description: 'The id `POST /query-images` answered for an uploaded DICOM, PNG or JPEG file (valid ten minutes, for its uploader).' })
  upload?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'A DICOM, PNG or JPEG file, base64-encoded; bounded by the 1 MB GraphQL body limit.',
    deprecationReason: 'Images no longer ride in the JSON body: POST the file to /query-images and pass its id as `upload`.',
  })
  base64?: string | null;
}

@ObjectType({ description: 'An archived image and its Hamming distance to the query image.' })
class SimilarImage {
  @Field(() => Image, { description: 'The archived image found; its metadata as browse shows it to the caller.' })
  image!: Image;

  @Field(() => Int, { description: 'Number of the 64 hash bits that differ (0 = same code).' })
  distance!: number;
}

/** The loaders of this request learn the series, studies, individuals and collections read with the images. */
function primeLineage(ctx: RequestContext, lineage: Lineage): void {
  const l = ctx.loaders;
  for (const s of lineage.series) l.seriesById.prime(s.id, s);
  for (const s of lineage.studies) l.studyById.prime(s.id, s);
  for (const i of lineage.individuals) l.individualById.prime(i.id, i);
  for (const c of lineage.collections) l.collectionById.prime(c.id, c);
}

@Resolver()
export class SimilarImagesResolver {
  @Query(() => [SimilarImage], { description: 'The k archived images nearest to the query image by deep-hash Hamming distance, nearest first, among those browse would show you.' })
  async similarImages(
    @Arg('image', () => ImageQueryInput, { description: 'The query image: an archived image by UID, or an image POSTed to /query-images by its id.' }) image: ImageQueryInput,
    @Arg('k', () => Int, { description: 'How many images to return, nearest first (at most 1000).', defaultValue: 30 }) k: number,
    @Arg('filter', () => BrowseFilterInput, { description: 'Only images of series that browse would show with this filter.', nullable: true }) filter: BrowseFilterInput | null,
    @Ctx() ctx: RequestContext,
  ) {
    const { hits, lineage } = await ctx.similarImages.similar(image, k, filter);
    primeLineage(ctx, lineage);
    return hits;
  }
}
