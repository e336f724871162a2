import type { RequestContext } from '../context.js';
import type { Image } from '../entities/index.js';
import { Action } from './policy.js';

/**
 * Whether the caller may view an image's pixels (the policy's VIEW_PIXELS on its collection, with
 * its series' review state). An image's sha256 and 64-bit hash code stand for its pixels: the
 * sha256 confirms whether someone holds a given file, the code says what the image looks like.
 * So they are served only to callers who may view them (issue 22, point 5); a field left null
 * is not an attempt, and is not audited. Batched: a page of images costs one load per level.
 */
export async function mayViewPixelsOf(ctx: RequestContext, image: Image): Promise<boolean> {
  const series = await ctx.loaders.seriesById.load(image.series.id);
  return !!series && mayViewPixelsOfCollection(ctx, series.collection.id, series.published);
}

/**
 * Whether the caller may view the pixels of a collection's released images (a version's files: no
 * one series), or, given `published`, of a series of it.
 */
export async function mayViewPixelsOfCollection(ctx: RequestContext, collectionId: number, published?: boolean): Promise<boolean> {
  const c = await ctx.loaders.collectionById.load(collectionId);
  if (!c) return false;
  return ctx.session.can(Action.VIEW_THUMBNAIL, {
    id: c.id, accession: c.accession, submitter: c.submitter, accessibility: c.accessibility, releaseState: c.releaseState, published,
  });
}
