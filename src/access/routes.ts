import type { Knex } from 'knex';
import { GraphQLError } from 'graphql';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/Principal.js';
import { Accessibility } from '../domain.js';
import { renderThumbnail } from '../imaging/thumbnail.js';
import { ForbiddenError, NotFoundError, RangeNotSatisfiableError, StorageCorruptError, UnauthenticatedError } from '../errors.js';
import type { Door } from '../http/door.js';
import type { RoutePlugin } from '../http/server.js';
import { LocalBlobStore } from '../storage/BlobStore.js';
import { BlobCorruptError } from '../storage/VerifiedReader.js';
import { readVerifiedBlob } from './blobs.js';
import { DownloadService, fillArchive, type DownloadFile } from './DownloadService.js';
import { LinkError, type LinkClaims } from './links.js';
import { Action, canSee, type CollectionRow } from './policy.js';
import { isUid } from '../dicom/index.js';

interface Authorized { claims: LinkClaims; user: Principal; downloads: DownloadService }

/**
 * Checks a download request before a byte is sent: a genuine unexpired link, presented by the
 * user it was made for (bearer token), whose right to the files still holds now (an approval
 * revoked or expired since the link was made ends it). Every outcome is audited.
 */
async function authorize(door: Door, request: FastifyRequest, token: string, what: string): Promise<Authorized> {
  const ctx = await door.createContext(request);
  const { user, session: control } = ctx;
  const downloads = ctx.access.downloads;
  let claims: LinkClaims;
  try {
    claims = door.access.signer.verify(token, control.now().getTime());
  } catch (err) {
    await control.audit.record({ action: Action.DOWNLOAD, collectionId: null, resource: what, allow: false, reason: err instanceof LinkError ? err.message : 'bad link' });
    throw new ForbiddenError('this link is not valid');
  }
  if (!user) throw new UnauthenticatedError('download links need the bearer token of the user they were made for');
  await ctx.recordUser();
  const collection = await downloads.collectionOf(claims.kind, claims.id);
  if (claims.sub !== user.id) {
    await control.audit.record({ action: Action.DOWNLOAD, collectionId: collection?.id ?? null, resource: what, allow: false, reason: `link made for another user (${claims.sub})` });
    throw new ForbiddenError('this link was made for another user');
  }
  try {
    await control.assertCan(Action.DOWNLOAD, collection, `${claims.kind} ${claims.id}`);
  } catch (err) {
    if (err instanceof GraphQLError) throw new ForbiddenError('you may not download this');
    throw err;
  }
  return { claims, user, downloads };
}

/**
 * Why an image the catalogue lists has no bytes to serve: a metadata-only row, as the
 * full-scale benchmark seed (`npm run seed -- --scale 1`) writes them (Image.stored is false).
 */
export const NOT_HELD = 'the archive lists this image but holds no DICOM file for it (a metadata-only row, e.g. from the full-scale benchmark seed; Image.stored is false)';


/**
 * Streams the zip: each file verified before it goes in (see fillArchive), one open at a time,
 * manifest.json last (held files with any per-file error, then the images the archive lists but
 * holds no file for, apart, with the reason). Entries are STOREd (DICOM pixel data rarely deflates
 * well and store keeps the CPU off the path); sizes past 4 GiB switch archiver to ZIP64 by itself.
 * Whatever fails once bytes are out (the client leaves, a disk error mid-file) ends this response only.
 */
async function serveArchive(door: Door, request: FastifyRequest, reply: FastifyReply, token: string): Promise<FastifyReply> {
  const { claims, downloads } = await authorize(door, request, token, 'download archive');
  // archiver (≈ 0.2 CPU-s to load) loads with the first zip, not with every process that starts the app.
  const { ZipArchive } = await import('archiver');
  const archive = new ZipArchive({ store: true });
  let aborted = false;
  let cancel!: (err: Error) => void;
  // Settles an entry still being written when the client leaves (archiver then emits nothing more).
  const cancelled = new Promise<never>((_, reject) => { cancel = reject; });
  cancelled.catch(() => {});
  const stop = () => { if (!aborted) { aborted = true; cancel(new Error('download aborted')); archive.abort(); reply.raw.destroy(); } };
  reply.raw.on('close', () => { if (!reply.raw.writableFinished) stop(); });
  archive.on('error', stop);
  const add = async (source: Readable | string, name: string) => {
    const done = once(archive, 'entry');
    const failed = typeof source === 'string' ? null : new Promise<never>((_, reject) => source.on('error', reject));
    archive.append(source, { name });
    try {
      await Promise.race([done, cancelled, ...(failed ? [failed] : [])]);
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw err;
    }
  };
  const fill = async () => {
    await fillArchive(downloads, claims, (sha) => door.access.blobs.open(sha), { add, aborted: () => aborted }, path.join(door.config.dataDir, 'tmp'), NOT_HELD);
    if (!aborted) await archive.finalize();
  };
  // The archive fills while Fastify streams it out; a failure part-way cuts this response short.
  fill().catch((err) => {
    stop();
    if (!(err instanceof Error) || !/abort|premature|EPIPE|ECONNRESET/i.test(err.message)) request.log.error({ err, target: claims.id }, 'download archive failed');
  });
  return reply.headers({
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${claims.id}.zip"`,
    'cache-control': 'no-store',
  }).send(archive);
}

/** One byte range of `size`, or null for the whole file; throws 416 for a range outside it. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges and other units: serve the whole file, as RFC 9110 allows.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number; let end: number;
  if (m[1] === '') { start = Math.max(0, size - Number(m[2])); end = size - 1; }
  else { start = Number(m[1]); end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1); }
  if (start > end || start >= size) throw new RangeNotSatisfiableError(`range not satisfiable for ${size} bytes`);
  return { start, end };
}

/** One image of the link's target, resumable with HTTP Range (ETag = its sha256, for If-Range). */
async function serveImage(door: Door, request: FastifyRequest, reply: FastifyReply, token: string, uid: string): Promise<FastifyReply> {
  const { claims, downloads } = await authorize(door, request, token, `image ${uid}`);
  const file: DownloadFile | null = await downloads.fileIn(claims.kind, claims.id, uid);
  if (!file) throw new NotFoundError('this link holds no such image');
  // Verified whole before a byte goes out, ranges included: a copy bad in both roots is refused here, never sent.
  const blob = await door.access.blobs.open(file.sha256).catch((err) => {
    throw err instanceof BlobCorruptError ? new StorageCorruptError() : err;
  });
  if (!blob) throw new NotFoundError(NOT_HELD);
  const etag = `"${file.sha256}"`;
  const ifRange = request.headers['if-range'];
  reply.headers({
    'content-type': 'application/dicom', 'accept-ranges': 'bytes', etag, 'cache-control': 'no-store',
    'content-disposition': `attachment; filename="${file.sopInstanceUid}.dcm"`,
  });
  if (ifRange && ifRange !== etag) request.headers.range = undefined;
  let range: { start: number; end: number } | null;
  try {
    range = request.method === 'HEAD' ? null : parseRange(request.headers.range, blob.size);
  } catch (err) {
    await blob.close();
    throw err;
  }
  if (request.method === 'HEAD') {
    // What a resuming client asks first (size, ETag, Accept-Ranges), without the bytes.
    await blob.close();
    return reply.header('content-length', blob.size).send();
  }
  if (range) reply.code(206).headers({ 'content-range': `bytes ${range.start}-${range.end}/${blob.size}`, 'content-length': range.end - range.start + 1 });
  else reply.header('content-length', blob.size);
  // Fastify pipes the stream and ends only this response on a read error or a client that leaves.
  return reply.send(blob.stream(range ?? undefined));
}

/**
 * A thumbnail of one image, for whoever the policy lets view pixel data: anyone for released
 * open collections, file holders for controlled ones. The ingest pipeline's stored thumbnail when
 * there is one, else rendered from the stored file. A hidden or absent image is refused exactly
 * like a forbidden one (401 anonymous, 403 signed in), so the route never confirms a UID exists.
 */
async function serveThumbnail(door: Door, request: FastifyRequest, reply: FastifyReply, uid: string): Promise<FastifyReply> {
  const { knex, row } = await authorizePixelView(door, request, `image ${uid}`, (k) => k('image as im')
    .join('series as s', 's.id', 'im.series_id').join('collection as c', 'c.id', 's.collection_id')
    .where('im.uid', uid).first('im.sha256', ...COLLECTION_COLUMNS));
  const stored = await knex('submission_file').where('image_uid', uid).whereNotNull('thumbnail_sha256').first('thumbnail_sha256');
  // The cached thumbnail only if it still hashes to its name; else it is rendered again below.
  let png: Buffer | null = stored ? await LocalBlobStore.thumbnailsOf(door.config).get(stored.thumbnail_sha256).catch(() => null) : null;
  if (!png) {
    const bytes = await readVerifiedBlob(door.access.blobs, row.sha256).catch((err) => {
      throw err instanceof BlobCorruptError ? new StorageCorruptError() : err;
    });
    if (!bytes) throw new NotFoundError(`${NOT_HELD}: there is no thumbnail`);
    try { png = await renderThumbnail(bytes, { maxSize: 128 }); } catch { throw new NotFoundError('no thumbnail can be rendered for this image'); }
  }
  return sendPixels(reply, png, row);
}

/**
 * The columns a pixel route's lookup selects for the policy: the collection (alias c) and whether
 * the series the pixels lie in (alias s) is published (src/browse/visibility.ts).
 */
export const COLLECTION_COLUMNS = ['c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState', 's.published'];

/**
 * The check every route serving pixels (thumbnails, series previews) makes: who is asking,
 * the collection the looked-up row belongs to, and VIEW_PIXELS on it. A hidden or absent row
 * is refused exactly like a forbidden one (401 anonymous, 403 signed in).
 */
export async function authorizePixelView(
  door: Door, request: FastifyRequest, label: string, find: (knex: Knex) => Promise<any>,
): Promise<{ knex: Knex; row: any }> {
  const ctx = await door.createContext(request);
  const knex = ctx.em.getKnex();
  const row = await find(knex);
  const collection = row ? { id: Number(row.id), accession: row.accession, submitter: row.submitter, accessibility: row.accessibility, releaseState: row.releaseState, published: row.published } : null;
  try {
    await ctx.session.assertCan(Action.VIEW_THUMBNAIL, collection, label);
  } catch (err) {
    if (err instanceof GraphQLError) throw ctx.user ? new ForbiddenError('you may not view this') : new UnauthenticatedError('sign in to view this');
    throw err;
  }
  return { knex, row: row! };
}

export function sendPixels(reply: FastifyReply, png: Buffer, row: { accessibility: string; releaseState: string; published?: unknown }): FastifyReply {
  // Cacheable by anyone only what anyone may see: an open collection's pixels once released and
  // their series published. "public" lets a shared cache keep an answer to a request that carried
  // a bearer token (RFC 9111 §3.5), so an open collection's unreleased pixels, shown to its
  // submitter and curators (and held for burned-in text review), must not say it; controlled
  // pixels neither.
  const anyone = row.accessibility === Accessibility.OPEN && canSee(null, row as CollectionRow);
  return reply.headers({
    'content-type': 'image/png',
    'cache-control': anyone ? 'public, max-age=300' : 'private, no-store',
  }).send(png);
}


/**
 * The /files routes (a zip of a link's target, and single images of it, GET and HEAD) and
 * /thumbnails. `:token` is a signed link token; `:uid` a DICOM UID (a `.dcm`/`.png` suffix allowed).
 */
export const accessRoutes: RoutePlugin = async (app, door) => {
  const uidOf = (raw: string, suffix: string) => {
    const uid = raw.endsWith(suffix) ? raw.slice(0, -suffix.length) : raw;
    if (!isUid(uid)) throw new NotFoundError('not found');
    return uid;
  };
  app.get<{ Params: { uid: string } }>('/thumbnails/:uid', (request, reply) => {
    if (!request.params.uid.endsWith('.png')) throw new NotFoundError('not found');
    return serveThumbnail(door, request, reply, uidOf(request.params.uid, '.png'));
  });
  app.get<{ Params: { token: string } }>('/files/:token/archive.zip', (request, reply) => serveArchive(door, request, reply, request.params.token));
  // HEAD answered by the handler itself: Fastify's automatic HEAD would report the length of an
  // empty body, and a resuming client asks HEAD for the file's size.
  app.route<{ Params: { token: string; uid: string } }>({
    method: ['GET', 'HEAD'], url: '/files/:token/images/:uid', exposeHeadRoute: false,
    handler: (request, reply) => serveImage(door, request, reply, request.params.token, uidOf(request.params.uid, '.dcm')),
  });
};
