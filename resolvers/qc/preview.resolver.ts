import { FieldResolver, Resolver, Root } from 'type-graphql';
import { Image, Series } from '../../src/entities/index.js';

// Paths on this server, like Submission.uploadUrl: the routes apply the access policy
// themselves (VIEW_THUMBNAIL), so handing out the path reveals nothing.
@Resolver(() => Image)
export class ImageThumbnailResolver {
  @FieldResolver(() => String, { description: 'PNG thumbnail (128 px, middle frame, the file\'s window or min/max), path on this server; send your bearer token for unreleased or controlled images.' })
  thumbnailUrl(@Root() image: Image): string {
    return `/thumbnails/${image.uid}.png`;
  }
}

@Resolver(() => Series)
export class SeriesPreviewResolver {
  @FieldResolver(() => String, { description: 'PNG preview of the series: a montage of up to nine of its images spread through it in instance order (cached), path on this server.' })
  previewUrl(@Root() series: Series): string {
    return `/previews/${series.uid}.png`;
  }
}
