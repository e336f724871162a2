import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { ZipArchive } from 'archiver';
import { GraphQLError } from 'graphql';
import type http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { logger } from '../log.js';
import { BlobCorruptError, type VerifiedBlob } from '../storage/VerifiedReader.js';
import type { Principal } from '../auth/Principal.js';
import { Accessibility } from '../domain.js';
import { renderThumbnail } from '../imaging/thumbnail.js';
import { HttpError, type Route } from '../http/router.js';
import { AccessControl } from './AccessControl.js';
import { BlobStore } from '../storage/BlobStore.js';
import { readVerifiedBlob } from './blobs.js';
import { DownloadService, fillArchive, type DownloadFile } from './DownloadService.js';
import { LinkError, type LinkClaims } from './links.js';
import type { AccessModule } from './module.js';
import { Action } from './policy.js';

const TOKEN = '([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)';
const ARCHIVE = new RegExp(`^/files/${TOKEN}/archive\\.zip$`);
const IMAGE = new RegExp(`^/files/${TOKEN}/images/([0-9.]{3,64}?)(?:\\.dcm)?$`);
const THUMBNAIL = /^\/thumbnails\/([0-9.]{3,64}?)\.png$/;

interface Authorized { claims: LinkClaims; user: Principal; em: EntityManager; downloads: DownloadService }

/**
 * Checks a download request before a byte is sent: a genuine unexpired link, presented by the
 * user it was made for (bearer token), whose right to the files still holds now (an approval
 * revoked or expired since the link was made ends it). Every outcome is audited.
 */
async function authorize(module: AccessModule, req: http.IncomingMessage, token: string, what: string): Promise<Authorized> {
  const em = module.orm.em.fork() as EntityManager;
  let user: Principal | null;
  try {
    user = await module.verifier.principalFrom(req.headers.authorization);
  } catch {
    throw new HttpError(401, 'the bearer token is not valid');
  }
  const control = new AccessControl(em, user);
  const downloads = new DownloadService(em, control, module.signer, () => module.baseUrl);
  let claims: LinkClaims;
  try {
    claims = module.signer.verify(token);
  } catch (err) {
    await control.audit.record({ action: Action.DOWNLOAD, collectionId: null, resource: what, allow: false, reason: err instanceof LinkError ? err.message : 'bad link' });
    throw new HttpError(403, 'this link is not valid');
  }
  if (!user) throw new HttpError(401, 'download links need the bearer token of the user they were made for');
  await module.users.record(em, user);
  const collection = await downloads.collectionOf(claims.kind, claims.id);
  if (claims.sub !== user.id) {
    await control.audit.record({ action: Action.DOWNLOAD, collectionId: collection?.id ?? null, resource: what, allow: false, reason: `link made for another user (${claims.sub})` });
    throw new HttpError(403, 'this link was made for another user');
  }
  try {
    await control.assertCan(Action.DOWNLOAD, collection, `${claims.kind} ${claims.id}`);
  } catch (err) {
    if (err instanceof GraphQLError) throw new HttpError(403, 'you may not download this');
    throw err;
  }
  return { claims, user, em, downloads };
}

/**
 * Streams the zip: each file verified before it goes in (see fillArchive), one open at a time,
 * manifest.json last. Entries are STOREd (DICOM pixel data rarely deflates well and store keeps
 * the CPU off the path); sizes past 4 GiB switch archiver to ZIP64 by itself. Whatever fails
 * once bytes are out (the client leaves, a disk error mid-file) ends this response only.
 */
async function serveArchive(module: AccessModule, req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
  const { claims, downloads } = await authorize(module, req, token, 'download archive');
  const archive = new ZipArchive({ store: true });
  let aborted = false;
  let cancel!: (err: Error) => void;
  // Settles an entry still being written when the client leaves (archiver then emits nothing more).
  const cancelled = new Promise<never>((_, reject) => { cancel = reject; });
  cancelled.catch(() => {});
  const stop = () => { if (!aborted) { aborted = true; cancel(new Error('download aborted')); archive.abort(); res.destroy(); } };
  res.on('close', () => { if (!res.writableFinished) stop(); });
  archive.on('error', stop);
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${claims.id}.zip"`,
    'cache-control': 'no-store',
  });
  pipeline(archive, res, () => {});
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
  try {
    await fillArchive(downloads, claims, (sha) => module.blobs.verified.open(sha), { add, aborted: () => aborted }, path.join(module.config.dataDir, 'tmp'));
  } catch (err) {
    stop();
    if (!(err instanceof Error) || !/abort|premature|EPIPE|ECONNRESET/i.test(err.message)) logger.error({ err, target: claims.id }, 'download archive failed');
    return;
  }
  if (!aborted) await archive.finalize();
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
  if (start > end || start >= size) throw new HttpError(416, `range not satisfiable for ${size} bytes`);
  return { start, end };
}

/** One image of the link's target, resumable with HTTP Range (ETag = its sha256, for If-Range). */
async function serveImage(module: AccessModule, req: http.IncomingMessage, res: http.ServerResponse, token: string, uid: string): Promise<void> {
  const { claims, downloads } = await authorize(module, req, token, `image ${uid}`);
  const file: DownloadFile | null = await downloads.fileIn(claims.kind, claims.id, uid);
  if (!file) throw new HttpError(404, 'this link holds no such image');
  // Verified whole before a byte goes out, ranges included: a copy bad in both roots is a 500 here, never bytes.
  let blob: VerifiedBlob | null;
  try {
    blob = await module.blobs.verified.open(file.sha256);
  } catch (err) {
    if (err instanceof BlobCorruptError) throw new HttpError(500, 'the stored file failed its integrity check in every copy; the archive has been alerted');
    throw err;
  }
  if (!blob) throw new HttpError(404, 'the image is not held in storage');
  const etag = `"${file.sha256}"`;
  const ifRange = req.headers['if-range'];
  let range: { start: number; end: number } | null;
  try {
    range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, blob.size);
  } catch (err) {
    await blob.close();
    throw err;
  }
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/dicom', 'accept-ranges': 'bytes', etag, 'cache-control': 'no-store',
    'content-disposition': `attachment; filename="${file.sopInstanceUid}.dcm"`,
  };
  // HEAD: what a resuming client asks first (size, ETag, Accept-Ranges), without the bytes.
  if (req.method === 'HEAD') {
    await blob.close();
    res.writeHead(200, { ...headers, 'content-length': blob.size });
    res.end();
    return;
  }
  if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${blob.size}`, 'content-length': range.end - range.start + 1 });
  else res.writeHead(200, { ...headers, 'content-length': blob.size });
  // pipeline: a read error or a client that leaves ends this response, never the process.
  await new Promise<void>((resolve) => pipeline(blob!.stream(range ?? undefined), res, () => resolve()));
}

/**
 * A thumbnail of one image, for whoever the policy lets view pixel data: anyone for released
 * open collections, file holders for controlled ones. The ingest pipeline's stored thumbnail when
 * there is one, else rendered from the stored file. A hidden or absent image is refused exactly
 * like a forbidden one (401 anonymous, 403 signed in), so the route never confirms a UID exists.
 */
async function serveThumbnail(module: AccessModule, req: http.IncomingMessage, res: http.ServerResponse, uid: string): Promise<void> {
  const { knex, row } = await authorizePixelView(module, req, `image ${uid}`, (k) => k('image as im')
    .join('series as s', 's.id', 'im.series_id').join('collection as c', 'c.id', 's.collection_id')
    .where('im.uid', uid).first('im.sha256', ...COLLECTION_COLUMNS));
  const stored = await knex('submission_file').where('image_uid', uid).whereNotNull('thumbnail_sha256').first('thumbnail_sha256');
  // The cached thumbnail only if it still hashes to its name; else it is rendered again below.
  let png: Buffer | null = stored ? await BlobStore.thumbnailsOf(module.config).get(stored.thumbnail_sha256).catch(() => null) : null;
  if (!png) {
    const bytes = await readVerifiedBlob(module.blobs, row.sha256).catch((err) => {
      if (err instanceof BlobCorruptError) throw new HttpError(500, 'the stored file failed its integrity check in every copy; the archive has been alerted');
      throw err;
    });
    if (!bytes) throw new HttpError(404, 'the image is not held in storage');
    try { png = await renderThumbnail(bytes, { maxSize: 128 }); } catch { throw new HttpError(404, 'no thumbnail can be rendered for this image'); }
  }
  sendPixels(res, png, row.accessibility);
}

/** The collection columns a pixel route's lookup selects (alias c) for the policy. */
export const COLLECTION_COLUMNS = ['c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState'];

/**
 * The check every route serving pixels (thumbnails, series previews) makes: who is asking,
 * the collection the looked-up row belongs to, and VIEW_THUMBNAIL on it. A hidden or absent row
 * is refused exactly like a forbidden one (401 anonymous, 403 signed in).
 */
export async function authorizePixelView(
  module: AccessModule, req: http.IncomingMessage, label: string, find: (knex: Knex) => Promise<any>,
): Promise<{ knex: Knex; row: any }> {
  let user: Principal | null;
  try {
    user = await module.verifier.principalFrom(req.headers.authorization);
  } catch {
    throw new HttpError(401, 'the bearer token is not valid');
  }
  const em = module.orm.em.fork() as EntityManager;
  const knex = em.getKnex();
  const row = await find(knex);
  const collection = row ? { id: Number(row.id), accession: row.accession, submitter: row.submitter, accessibility: row.accessibility, releaseState: row.releaseState } : null;
  try {
    await new AccessControl(em, user).assertCan(Action.VIEW_THUMBNAIL, collection, label);
  } catch (err) {
    if (err instanceof GraphQLError) throw new HttpError(user ? 403 : 401, user ? 'you may not view this' : 'sign in to view this');
    throw err;
  }
  return { knex, row: row! };
}

export function sendPixels(res: http.ServerResponse, png: Buffer, accessibility: string): void {
  res.writeHead(200, {
    'content-type': 'image/png', 'content-length': png.length,
    // Controlled pixels must not linger in shared caches.
    'cache-control': accessibility === Accessibility.OPEN ? 'public, max-age=300' : 'private, no-store',
  });
  res.end(png);
}

/** The /files routes (a zip of a link's target, and single images of it) and /thumbnails. */
export function accessRoutes(module: AccessModule): Route[] {
  return [
    { method: 'GET', path: THUMBNAIL, handle: (req, res, url) => serveThumbnail(module, req, res, THUMBNAIL.exec(url.pathname)![1]!) },
    { method: 'GET', path: ARCHIVE, handle: (req, res, url) => serveArchive(module, req, res, ARCHIVE.exec(url.pathname)![1]!) },
    ...['GET', 'HEAD'].map((method) => ({
      method, path: IMAGE,
      handle: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => { const m = IMAGE.exec(url.pathname)!; return serveImage(module, req, res, m[1]!, m[2]!); },
    })),
  ];
}

