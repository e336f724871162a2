import type { FastifyReply, FastifyRequest } from 'fastify';
import { readVerifiedBlob } from '../access/blobs.js';
import { authorizePixelView, COLLECTION_COLUMNS, sendPixels } from '../access/routes.js';
import { NotFoundError } from '../errors.js';
import type { Door } from '../http/door.js';
import type { RoutePlugin } from '../http/server.js';
import { renderMontage } from '../imaging/index.js';
import { isUid } from '../dicom/index.js';

/** Tiles in a series preview: enough to judge a series at a glance, few enough to render in well under a second. */
const TILES = 9;
const CACHE_ENTRIES = 256;

/**
 * Rendered previews by series UID, image count and last image id: any change to the series' images
 * gets a new key, so a cached preview is never stale. Ids only grow (autoincrement on both
 * databases), so an added image raises the last id and a withdrawn one (unless replaced) lowers the
 * count. The count alone was not enough: a slice withdrawn for a burned-in name and its corrected
 * copy added brought the count back, and the cached montage with the withdrawn slice was served.
 * Bounded LRU (Map order = recency).
 */
const cache = new Map<string, Buffer>();

function remember(key: string, png: Buffer): void {
  cache.delete(key);
  cache.set(key, png);
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
}

/** `count` indices spread evenly over 0..n-1 (all of them when n ≤ count). */
export function spread(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (n - 1)) / (count - 1)));
}

/**
 * A series preview: a montage of up to nine images spread through the series in instance
 * order, for whoever the policy lets view the collection's pixels (as /thumbnails). A hidden or
 * absent series is refused like a forbidden one, so the route never confirms a UID exists.
 */
async function servePreview(door: Door, request: FastifyRequest, reply: FastifyReply, uid: string): Promise<FastifyReply> {
  const { knex, row } = await authorizePixelView(door, request, `series ${uid}`, (k) => k('series as s')
    .join('collection as c', 'c.id', 's.collection_id').where('s.uid', uid)
    .first('s.id as seriesId', ...COLLECTION_COLUMNS));
  // One aggregate over the (series, id) index, whatever the series' size.
  const held = await knex('image').where('series_id', row.seriesId).first(knex.raw('count(*) as n'), knex.raw('max(id) as last'));
  const key = `${uid}|${Number(held?.n ?? 0)}|${Number(held?.last ?? 0)}`;
  let png = cache.get(key);
  if (!png) {
    const images: { sha256: string }[] = await knex('image').where('series_id', row.seriesId)
      .orderByRaw('instance_number is null, instance_number').orderBy('id').select('sha256');
    if (images.length === 0) throw new NotFoundError('the series has no images');
    const picked = spread(images.length, TILES).map((i) => images[i]!);
    const bytes: Uint8Array[] = [];
    for (const im of picked) {
      // A missing or corrupt blob still gets a (crossed-out) tile from renderMontage, so the grid keeps its shape.
      bytes.push((await readVerifiedBlob(door.access.blobs, im.sha256).catch(() => null)) ?? new Uint8Array(0));
    }
    png = await renderMontage(bytes, { tile: 128 });
    remember(key, png);
  }
  return sendPixels(reply, png, row);
}

/** `GET /previews/<series UID>.png`. */
export const previewRoutes: RoutePlugin = async (app, door) => {
  app.get<{ Params: { file: string } }>('/previews/:file', (request, reply) => {
    const uid = request.params.file.endsWith('.png') ? request.params.file.slice(0, -4) : '';
    if (!isUid(uid)) throw new NotFoundError('not found');
    return servePreview(door, request, reply, uid);
  });
};
