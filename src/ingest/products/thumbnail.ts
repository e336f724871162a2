import { thumbnailOfDisplay } from '../../imaging/index.js';
import type { DerivedProduct } from './product.js';

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 128;

/**
 * The PNG thumbnail curators review series by: written to the thumbnail cache by the worker
 * (content-addressed), its hash kept on the file's row.
 */
export const thumbnail: DerivedProduct<string> = {
  name: 'thumbnail',
  wanted: (s) => s.thumbnails,
  async derive(src) {
    return src.thumbnails!.putSync(thumbnailOfDisplay(await src.display(), THUMBNAIL_SIZE));
  },
  accept(items) {
    for (const { work, value } of items) {
      work.file.thumbnailSha256 = value;
      (work.fileColumns ??= {}).thumbnail_sha256 = value;
    }
  },
  missing: (file) => !file.thumbnailSha256,
};
