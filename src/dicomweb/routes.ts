import { PassThrough } from 'node:stream';
import { drained } from '../http/drained.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { Action } from '../access/policy.js';
import type { RequestContext } from '../context.js';
import { ForbiddenError, ServiceUnavailableError, UnauthenticatedError } from '../errors.js';
import type { Door } from '../http/door.js';
import type { RoutePlugin } from '../http/server.js';
import { acceptedRanges, negotiate } from './accept.js';
import type { Level } from './attributes.js';
import { frameRepresentation } from './dicomFile.js';
import { FrameIndexCache } from './FrameIndex.js';
import { BadRequest, Conflict, NotAcceptable, NotFound, UnsupportedMediaType } from './errors.js';
import { InstanceStore, type InstanceRow, type Target } from './InstanceStore.js';
import { MetadataCache } from './MetadataCache.js';
import { closing, multipartBody, multipartType, newBoundary, parseMultipart, partHead } from './multipart.js';
import { QidoService, type Scope } from './QidoService.js';
import { parseQido } from './query.js';
import { bulkValueOnWorker, holdingFile, nativeFramesOnWorker, renderOnWorker } from './imagingPool.js';
import { renderOptions } from './rendered.js';
import { storeParts } from './stow.js';
import { isUid } from '../dicom/index.js';

/** The service root. */
export const ROOT = '/dicom-web';
const DICOM_JSON = 'application/dicom+json';
const DICOM = 'application/dicom';
/** STOW-RS bodies are read whole before anything is stored, so a bad part refuses nothing already staged; bounded. */
const STOW_BODY_LIMIT = 512 * 1024 * 1024;
/** A thumbnail's longest side when the request names no viewport. */
const THUMBNAIL_SIZE = 128;
/** Frames of a compressed instance one request may have decoded to Explicit VR Little Endian. */
const MAX_TRANSCODED_FRAMES = 100;
/** …and the decoded bytes one such answer may hold. */
const MAX_TRANSCODED_BYTES = 512 * 1024 * 1024;

type Query = Record<string, unknown>;
type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query }>;

/**
 * The service root as the client reached it: the configured base URL, else the scheme and host
 * the request was made to — a trusted proxy's X-Forwarded-Proto/Host (OBIA_TRUST_PROXY: Fastify's
 * request.protocol and request.host read them only from such a peer), else the request's own.
 * BulkDataURIs and RetrieveURLs are built on it so they work behind a reverse proxy. The headers
 * were believed from anyone: a client could point the URLs of an answer at a host of its
 * choosing, and a shared cache in front could keep that answer for others.
 */
function baseUrl(door: Door, request: FastifyRequest): string {
  if (door.config.dicomweb.baseUrl) return door.config.dicomweb.baseUrl;
  const host = request.host || '127.0.0.1';
  const scheme = request.protocol === 'https' ? 'https' : 'http';
  // Only a host[:port] is taken from a header, never a path or anything a URL could be bent with.
  return `${scheme}://${/^[A-Za-z0-9.[\]:-]{1,255}$/.test(host) ? host : '127.0.0.1'}${ROOT}`;
}

function sendJson(reply: FastifyReply, body: unknown[] | Record<string, unknown>, type = DICOM_JSON): FastifyReply {
  return reply.header('content-type', type).send(JSON.stringify(body));
}

function privacy(reply: FastifyReply): FastifyReply {
  // Pixels and files may be of controlled collections: never in shared caches.
  return reply.header('cache-control', 'private, no-store');
}

/**
 * `1,3,5` (1-based, PS3.18 8.3.5.1.3) as 0-based indices, checked for form here and, where `count`
 * is known, against the instance's frame count (else where the file is parsed, on a worker).
 */
function frameList(raw: string, count = Infinity): number[] {
  if (!/^\d{1,6}(,\d{1,6}){0,999}$/.test(raw)) throw new BadRequest('frames must be a comma-separated list of frame numbers', 'frames');
  const list = raw.split(',').map(Number);
  if (list.some((n) => n < 1)) throw new BadRequest('frame numbers start at 1', 'frames');
  // PS3.18 asks for non-duplicate frame numbers. A repeat is refused, not served: otherwise
  // "1,1,…,1" (hundreds of times) made one short request read, hold and send as many copies
  // of the largest frame. Without repeats, an answer is at most the instance's own pixels.
  if (new Set(list).size !== list.length) throw new BadRequest('frame numbers must not repeat', 'frames');
  if (list.some((n) => n > count)) throw new NotFound(`the instance has ${count} frame(s)`);
  return list.map((n) => n - 1);
}

class DicomWeb {
  readonly metadata: MetadataCache;
  readonly frameIndex = new FrameIndexCache();

  constructor(private readonly door: Door) {
    this.metadata = MetadataCache.of(door.config);
  }

  async context(request: FastifyRequest): Promise<RequestContext> {
    return this.door.createContext(request);
  }

  store(ctx: RequestContext): InstanceStore {
    return new InstanceStore(ctx.em.getKnex(), ctx.session, this.door.access.blobs);
  }

  async search(request: Req, reply: FastifyReply, level: Level, scope: Scope): Promise<FastifyReply> {
    negotiate(acceptedRanges(request.headers.accept, request.query.accept), [DICOM_JSON, 'application/json']);
    const q = parseQido(level, request.query, { maxOffset: this.door.config.dicomweb.maxOffset });
    const ctx = await this.context(request);
    const result = await new QidoService(ctx.em.getKnex(), ctx.user, baseUrl(this.door, request)).search(q, scope);
    const warnings: string[] = [];
    if (q.unsupported.length) warnings.push(`299 obia-hub "The following attributes are not supported for matching and were ignored: ${q.unsupported.join(',')}"`);
    // PS3.18 8.3.4.3: a query cut at the server's maximum says so, and the client pages with offset.
    if (result.truncated) warnings.push('299 obia-hub "The number of results exceeded the maximum supported by the server. Additional results can be requested."');
    if (warnings.length) reply.header('warning', warnings);
    return sendJson(reply, result.matches);
  }

  async retrieve(request: Req, reply: FastifyReply, target: Target): Promise<FastifyReply> {
    // One instance may also be sent as itself, a single part (PS3.18 8.7.3.3.2): application/octet-stream
    // was offered at every level and answered with a multipart/related body all the same.
    const { type, range } = negotiate(acceptedRanges(request.headers.accept, request.query.accept),
      ['multipart/related;type=application/dicom', 'application/zip', ...(target.instance ? ['application/dicom', 'application/octet-stream'] : [])]);
    const wanted = range.params['transfer-syntax'];
    const ctx = await this.context(request);
    const store = this.store(ctx);
    const rows = await store.instances(target, Action.DOWNLOAD);
    // Files are sent as stored (no transfer-syntax parameter is taken to mean that too); a client
    // that names another syntax gets 406, not a silent mismatch.
    if (wanted && wanted !== '*' && rows.some((r) => r.transferSyntaxUid !== wanted)) {
      throw new NotAcceptable(`instances are held as stored and not transcoded; ask with transfer-syntax=*`);
    }
    // The first file is verified before the response starts: a single instance bad in both copies is a clean 5xx.
    const first = rows.length ? await store.open(rows[0]!) : null;
    const next = (i: number) => (i === 0 ? Promise.resolve(first!) : store.open(rows[i]!));
    privacy(reply);
    if (type === 'application/dicom' || type === 'application/octet-stream') return reply.header('content-type', type).header('content-length', first!.size).send(first!.stream());
    if (type === 'application/zip') {
      // archiver (≈ 0.2 CPU-s to load) loads with the first zip, not with every process that starts the app.
      const { ZipArchive } = await import('archiver');
      const zip = new ZipArchive({ zlib: { level: 0 } });
      // One file open at a time, each verified before it goes in; a later file bad in both copies cuts the zip short, never sends its bytes.
      // Fastify destroys the zip when the client goes away: the file in hand is closed and no other is opened.
      void (async () => {
        for (let i = 0; i < rows.length && !zip.destroyed; i++) {
          const r = rows[i]!;
          const blob = await next(i);
          if (zip.destroyed) { await blob.close(); break; }
          const stream = blob.stream();
          await new Promise<void>((resolve, reject) => {
            const done = (err?: Error) => {
              zip.off('error', done); zip.off('entry', entered); zip.off('close', gone);
              if (err) reject(err); else resolve();
            };
            const entered = () => done();
            const gone = () => { stream.destroy(); done(); };
            zip.once('error', done);
            zip.once('entry', entered);
            zip.once('close', gone);
            zip.append(stream, { name: `${r.studyUid}/${r.seriesUid}/${r.sopUid}.dcm` });
          });
        }
        if (!zip.destroyed) await zip.finalize();
      })().catch((err) => zip.destroy(err as Error));
      return reply.header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${target.instance ?? target.series ?? target.study}.zip"`).send(zip);
    }
    const boundary = newBoundary();
    const out = new PassThrough();
    // Fastify destroys `out` when the client goes away, and a destroyed stream never drains: each
    // wait also ends on 'close', and the loop stops, closing the file in hand (leaving the for-await
    // destroys its stream) and opening no other. Before, an abandoned retrieval held its file open
    // and its loop waiting for ever, one file descriptor per client that walked away.
    const writable = () => drained(out);
    void (async () => {
      try {
        for (let i = 0; i < rows.length && !out.destroyed; i++) {
          const blob = await next(i);
          if (out.destroyed) { await blob.close(); break; }
          out.write(partHead(boundary, DICOM, { 'Content-Location': `${baseUrl(this.door, request)}/studies/${rows[i]!.studyUid}/series/${rows[i]!.seriesUid}/instances/${rows[i]!.sopUid}` }));
          for await (const chunk of blob.stream()) {
            if (out.destroyed) break;
            if (!out.write(chunk)) await writable();
          }
          if (!out.destroyed) out.write('\r\n');
        }
        if (!out.destroyed) out.end(closing(boundary));
      } catch (err) {
        out.destroy(err as Error);
      }
    })();
    return reply.header('content-type', multipartType(boundary, DICOM, '*')).send(out);
  }

  async metadataOf(request: Req, reply: FastifyReply, target: Target): Promise<FastifyReply> {
    negotiate(acceptedRanges(request.headers.accept, request.query.accept), [DICOM_JSON, 'application/json']);
    const ctx = await this.context(request);
    const store = this.store(ctx);
    const rows = await store.instances(target, Action.BROWSE);
    const base = baseUrl(this.door, request);
    const part = (i: number) => this.metadata.json(rows[i]!, () => store.read(rows[i]!), base);
    // Streamed, one instance's JSON at a time: the whole array (20,000 instances of ~3 KB, 60 MB,
    // twice over while joined) was built before the first byte went out, and built to the end for
    // a client that had already gone. The first is made before the answer starts, so a study whose
    // first file is bad is a clean error; a later one cuts the array short (as retrieve does).
    const first = await part(0);
    const out = new PassThrough();
    void (async () => {
      try {
        out.write(`[${first}`);
        for (let i = 1; i < rows.length && !out.destroyed; i++) {
          const text = await part(i);
          if (out.destroyed) break;
          if (!out.write(`,${text}`)) await drained(out);
        }
        if (!out.destroyed) out.end(']');
      } catch (err) {
        out.destroy(err as Error);
      }
    })();
    return reply.header('content-type', DICOM_JSON).send(out);
  }

  async frames(request: Req, reply: FastifyReply, target: Target, raw: string): Promise<FastifyReply> {
    const ranges = acceptedRanges(request.headers.accept, request.query.accept);
    // A request for no frame type at all is refused before the catalogue is asked.
    negotiate(ranges, ['multipart/related;type=application/octet-stream', 'multipart/related;type=image/jpeg',
      'multipart/related;type=image/jls', 'multipart/related;type=image/jp2', 'multipart/related;type=image/jphc', 'multipart/related;type=image/x-dicom-rle']);
    const ctx = await this.context(request);
    const store = this.store(ctx);
    const [row] = await store.instances(target, Action.VIEW_THUMBNAIL);
    // Decided on the catalogued syntax before a byte is read: as stored, or Explicit VR Little Endian,
    // of a media type the request accepts (dicomFile.ts frameRepresentation).
    const { syntax, transcode, partType } = frameRepresentation(ranges, row!.transferSyntaxUid);
    let indices: number[] = [];
    let frames: Uint8Array[];
    if (transcode) {
      // Each decode is a whole frame's codec work: a request asks for a bounded number of them
      // (counted here, before the file is read; decoded bytes from the header on the worker), all
      // in one task of the decoders' queue, so one request cannot crowd out the others.
      if (raw.split(',').length > MAX_TRANSCODED_FRAMES) throw new BadRequest(`at most ${MAX_TRANSCODED_FRAMES} frames per request when they are decoded from ${row!.transferSyntaxUid}`, 'frames');
      // Counted against the instance's frames on the worker, which parses the file.
      indices = frameList(raw);
      frames = await holdingFile(row!.size, async () => nativeFramesOnWorker(await store.read(row!), indices, MAX_TRANSCODED_BYTES));
    } else {
      ({ frames } = await this.frameIndex.frames(store, row!, (ix) => (indices = frameList(raw, ix.numberOfFrames))));
    }
    const boundary = newBoundary();
    const base = `${baseUrl(this.door, request)}/studies/${row!.studyUid}/series/${row!.seriesUid}/instances/${row!.sopUid}/frames/`;
    const body = multipartBody(boundary, `${partType}; transfer-syntax=${syntax}`, indices.map((i, k) => ({ bytes: frames[k]!, headers: { 'Content-Location': `${base}${i + 1}` } })));
    return privacy(reply).header('content-type', multipartType(boundary, partType, syntax)).send(body);
  }

  async bulkdata(request: Req, reply: FastifyReply, target: Target, tag: string): Promise<FastifyReply> {
    if (!/^[0-9A-Fa-f]{8}$/.test(tag)) throw new NotFound('bulk data is addressed by an eight-digit tag');
    const { type } = negotiate(acceptedRanges(request.headers.accept, request.query.accept), ['multipart/related;type=application/octet-stream', 'application/octet-stream']);
    const ctx = await this.context(request);
    const store = this.store(ctx);
    const [row] = await store.instances(target, Action.VIEW_THUMBNAIL);
    const key = tag.toUpperCase();
    // Only what the instance's metadata offers (a BulkDataURI, or a small binary value inline) is
    // looked for in its file, decided from the cached metadata: any other tag was a whole file read,
    // verified and parsed through dcmjs with its Pixel Data (an 8 MB CT: 25 CPU-ms, 17 MB held) to answer 404.
    if (!(await this.metadata.bulkTags(row!, () => store.read(row!))).has(key)) throw new NotFound('the instance holds no bulk data under that tag');
    // Read on a worker: through dcmjs, whose cost grows with the header, never on this thread.
    const bytes = await holdingFile(row!.size, async () => bulkValueOnWorker(await store.read(row!), key));
    // Single part when that is what the request accepts (PS3.18 8.7.3.3.2; dicomweb-client's
    // `singlepart: 'bulkdata'`, which OHIF is configured with): it was sent the multipart envelope
    // under a multipart Content-Type all the same.
    if (type === 'application/octet-stream') return privacy(reply).header('content-type', 'application/octet-stream').send(bytes);
    const boundary = newBoundary();
    return privacy(reply).header('content-type', multipartType(boundary, 'application/octet-stream'))
      .send(multipartBody(boundary, 'application/octet-stream', [{ bytes }]));
  }

  async rendered(request: Req, reply: FastifyReply, target: Target, thumbnail: boolean, frameRaw?: string): Promise<FastifyReply> {
    const { type } = negotiate(acceptedRanges(request.headers.accept, request.query.accept), ['image/jpeg', 'image/png']);
    const opts = renderOptions(request.query, type as 'image/jpeg' | 'image/png', thumbnail ? THUMBNAIL_SIZE : null);
    const ctx = await this.context(request);
    const store = this.store(ctx);
    const rows = await store.instances(target, Action.VIEW_THUMBNAIL);
    // A study or series is rendered (or thumbnailed) by its middle instance, as a viewer's series
    // strip shows it, among its images: a structured report in the middle made the thumbnail of a
    // study full of images 404.
    const images = rows.filter((r) => r.rows !== null);
    const among = images.length ? images : rows;
    const row: InstanceRow = among[Math.floor((among.length - 1) / 2)]!;
    let frame = 0;
    if (frameRaw !== undefined) {
      // Counted against the instance's frames on the worker that renders it.
      const list = frameList(frameRaw);
      if (list.length !== 1) throw new BadRequest('rendered frames: one frame at a time', 'frames');
      frame = list[0]!;
    }
    const image = await holdingFile(row.size, async () => renderOnWorker(await store.read(row), frame, opts));
    return privacy(reply).header('content-type', type).send(image);
  }

  /** STOW-RS callers admitted by `admitStow`, before their bodies were read. */
  private readonly admitted = new WeakMap<FastifyRequest, { ctx: RequestContext; id: number }>();

  /**
   * Who may store into the submission, decided from the request's headers before its body is read
   * (an onRequest hook): a body of up to 512 MB was read into memory first, from anyone, and only
   * then was its sender asked who they were.
   */
  async admitStow(request: Req, submissionRaw: string, study: string | null): Promise<void> {
    if (study !== null && !isUid(study)) throw new BadRequest('the study UID in the path is not a UID');
    const ctx = await this.context(request);
    if (!ctx.user) throw new UnauthenticatedError('sign in to store instances: send Authorization: Bearer <token>');
    if (!ctx.ingest) throw new ServiceUnavailableError('submissions are not enabled on this server');
    const id = /^\d{1,12}$/.test(submissionRaw) ? Number(submissionRaw) : NaN;
    const row = Number.isSafeInteger(id) ? await ctx.em.getKnex()('submission').where({ id }).first('id', 'submitter') : undefined;
    try {
      await ctx.session.assertCan(Action.UPLOAD, row ? { id: Number(row.id), submitter: row.submitter } : null, `submission ${submissionRaw.slice(0, 20)}`);
    } catch (err) {
      if (err instanceof GraphQLError) throw new ForbiddenError('no submission you may store into');
      throw err;
    }
    this.admitted.set(request, { ctx, id });
  }

  async stow(request: Req, reply: FastifyReply, study: string | null): Promise<FastifyReply> {
    const admitted = this.admitted.get(request);
    if (!admitted?.ctx.user || !admitted.ctx.ingest) throw new Error('STOW-RS handler reached without admitStow');
    const { ctx, id } = admitted;
    if (!Buffer.isBuffer(request.body)) throw new UnsupportedMediaType('STOW-RS takes multipart/related; type="application/dicom"');
    const { type, parts } = parseMultipart(request.headers['content-type'], request.body);
    if (type && type !== DICOM) throw new UnsupportedMediaType('STOW-RS here takes application/dicom parts (multipart/related; type="application/dicom")');
    if (parts.length === 0) throw new BadRequest('the body holds no parts');
    await ctx.recordUser();
    const outcome = await storeParts(admitted.ctx.ingest.submissions, admitted.ctx.user, id, study, parts);
    return reply.code(outcome.status).header('content-type', DICOM_JSON).send(JSON.stringify(outcome.body));
  }
}

/** CORS for viewers on another origin: only the configured origins (`*` for any), never credentials by cookie. */
function cors(door: Door) {
  const origins = door.config.dicomweb.corsOrigins;
  return (request: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = request.headers.origin;
    if (!origin || origins.length === 0) return false;
    if (!origins.includes('*') && !origins.includes(origin)) return false;
    reply.header('access-control-allow-origin', origins.includes('*') ? '*' : origin)
      .header('vary', 'Origin')
      .header('access-control-expose-headers', 'Warning, Content-Type, Content-Length, Content-Location');
    return true;
  };
}

/**
 * DICOMweb (PS3.18) under /dicom-web: QIDO-RS, WADO-RS and STOW-RS over the archive's own
 * tables, blob store, authorization session and error vocabulary.
 */
export const dicomWebRoutes: RoutePlugin = async (app, door) => {
  const web = new DicomWeb(door);
  const allowCors = cors(door);
  app.addHook('onRequest', async (request, reply) => { allowCors(request, reply); });
  app.options(`${ROOT}/*`, (request, reply) => {
    if (!allowCors(request, reply)) return reply.code(204).send();
    return reply.code(204).header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS')
      .header('access-control-allow-headers', 'Authorization, Accept, Content-Type').header('access-control-max-age', '600').send();
  });
  app.addContentTypeParser('multipart/related', { parseAs: 'buffer', bodyLimit: STOW_BODY_LIMIT }, (_request, body, done) => done(null, body));

  const get = (path: string, handler: (request: Req, reply: FastifyReply) => Promise<FastifyReply>) => app.get(`${ROOT}${path}`, handler);
  const p = (request: Req) => request.params;

  // QIDO-RS (PS3.18 10.6), every level and nested.
  get('/studies', (rq, rp) => web.search(rq, rp, 'study', {}));
  get('/series', (rq, rp) => web.search(rq, rp, 'series', {}));
  get('/instances', (rq, rp) => web.search(rq, rp, 'instance', {}));
  get('/studies/:study/series', (rq, rp) => web.search(rq, rp, 'series', { study: p(rq).study }));
  get('/studies/:study/instances', (rq, rp) => web.search(rq, rp, 'instance', { study: p(rq).study }));
  get('/studies/:study/series/:series/instances', (rq, rp) => web.search(rq, rp, 'instance', { study: p(rq).study, series: p(rq).series }));

  // WADO-RS (PS3.18 10.4): instances, metadata, frames, bulk data, rendered and thumbnails.
  const study = (rq: Req): Target => ({ study: p(rq).study! });
  const series = (rq: Req): Target => ({ study: p(rq).study!, series: p(rq).series });
  const instance = (rq: Req): Target => ({ study: p(rq).study!, series: p(rq).series, instance: p(rq).instance });
  for (const [path, target] of [['/studies/:study', study], ['/studies/:study/series/:series', series], ['/studies/:study/series/:series/instances/:instance', instance]] as const) {
    get(path, (rq, rp) => web.retrieve(rq, rp, target(rq)));
    get(`${path}/metadata`, (rq, rp) => web.metadataOf(rq, rp, target(rq)));
    get(`${path}/rendered`, (rq, rp) => web.rendered(rq, rp, target(rq), false));
    get(`${path}/thumbnail`, (rq, rp) => web.rendered(rq, rp, target(rq), true));
  }
  const inst = '/studies/:study/series/:series/instances/:instance';
  get(`${inst}/frames/:frames`, (rq, rp) => web.frames(rq, rp, instance(rq), p(rq).frames!));
  get(`${inst}/frames/:frames/rendered`, (rq, rp) => web.rendered(rq, rp, instance(rq), false, p(rq).frames));
  get(`${inst}/frames/:frames/thumbnail`, (rq, rp) => web.rendered(rq, rp, instance(rq), true, p(rq).frames));
  get(`${inst}/bulkdata/:tag`, (rq, rp) => web.bulkdata(rq, rp, instance(rq), p(rq).tag!));

  // STOW-RS (PS3.18 10.5) into a submission: the submission's own service root.
  const stow = { onRequest: (rq: Req) => web.admitStow(rq, p(rq).submission!, p(rq).study ?? null) };
  const store = (rq: Req, rp: FastifyReply) => web.stow(rq, rp, p(rq).study ?? null);
  app.post(`${ROOT}/submissions/:submission/studies`, stow, store);
  app.post(`${ROOT}/submissions/:submission/studies/:study`, stow, store);
  // The archive's own root takes no instances: stored instances go through a submission (de-identification and QC) first.
  const noStow = async () => { throw new Conflict(`instances are stored into a submission: POST them to ${ROOT}/submissions/{id}/studies`); };
  app.post(`${ROOT}/studies`, noStow);
  app.post(`${ROOT}/studies/:study`, noStow);
};
