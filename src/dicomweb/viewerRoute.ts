import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import { logger } from '../log.js';
import { sha256Hex } from '../storage/BlobStore.js';
import { OHIF_FILE_SHA256 } from './ohifPins.js';
import type { RoutePlugin } from '../http/server.js';
import { ROOT } from './routes.js';

/** The OHIF release scripts/fetch-ohif.mjs fetches and verifies. */
export const OHIF_VERSION = '3.13.2';
export const VIEWER = '/viewer';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf',
  '.map': 'application/json', '.txt': 'text/plain; charset=utf-8', '.xml': 'application/xml', '.webmanifest': 'application/manifest+json',
};

/**
 * OHIF's configuration: one DICOMweb data source, this archive's /dicom-web on the same origin
 * (so no CORS is needed), with what the archive supports (includefield, fuzzy matching,
 * wildcards; frames as stored through wadors; BulkDataURIs as given).
 */
function appConfig(): string {
  const config = {
    routerBasename: VIEWER,
    showStudyList: true,
    extensions: [],
    modes: [],
    maxNumberOfWebWorkers: 2,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    showLoadingIndicator: true,
    defaultDataSourceName: 'obia',
    investigationalUseDialog: { option: 'never' },
    dataSources: [{
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'obia',
      configuration: {
        friendlyName: 'OBIA Hub',
        name: 'obia',
        qidoRoot: '__ORIGIN__' + ROOT,
        wadoRoot: '__ORIGIN__' + ROOT,
        wadoUriRoot: '__ORIGIN__' + ROOT,
        qidoSupportsIncludeField: true,
        supportsReject: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: true,
        supportsWildcard: true,
        staticWado: false,
        singlepart: 'bulkdata,video',
        bulkDataURI: { enabled: true },
        omitQuotationForMultipartRequest: true,
      },
    }],
  };
  // The service root is the origin the browser loaded the viewer from, so the same dist works behind any proxy.
  return `window.config = ${JSON.stringify(config, null, 2).replace(/"__ORIGIN__/g, 'window.location.origin + "')};\n`;
}

const log = logger.child({ module: 'viewer' });

/**
 * Headers every viewer answer carries: no content sniffing (a .json or .txt file is never run as
 * script), no referrer beyond this origin (viewer URLs carry StudyInstanceUIDs), and no framing by
 * another site (the viewer acts with the user's token). The page's CSP restricts what does not
 * touch how OHIF's bundles run (it needs inline script and WebAssembly compilation).
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'SAMEORIGIN',
};
/**
 * The page holds the caller's bearer token (from ?token=) and draws DICOM-derived text, so no
 * connection, image, font or worker may reach another origin: injected script would otherwise have
 * fetch or an image beacon to send the token away. OHIF's bundles need inline script, eval and
 * WebAssembly compilation, and make workers, images and fetches from blob: and data: URLs.
 */
const PAGE_CSP = [
  "default-src 'self' blob: data:",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:",
  "style-src 'self' 'unsafe-inline'",
  "frame-ancestors 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
].join('; ');

/** A vendored viewer file whose bytes are not the pinned ones: refused, never sent to a browser. */
export class ViewerIntegrityError extends ServiceUnavailableError {
  constructor(readonly file: string) {
    super(`the viewer file ${file} does not match the OHIF release this archive pins; it is not served (reinstall with \`npm run viewer:fetch\`)`);
  }
}

const PUBLIC_PATH = '__webpack_require__.p = "/";';

/**
 * The viewer's files from `dir`, each served only when it is listed in `pins` and its bytes hash
 * to its pin. A file is hashed once per identity (inode, size, mtime and ctime: any write to it or
 * rename over it changes one of them, and ctime cannot be set back) and streamed from the
 * descriptor that was checked.
 */
export class ViewerFiles {
  private indexHtml: string | null = null;
  private readonly rewritten = new Map<string, Buffer | null>();
  /** Path inside the dist → the identity of the file whose bytes matched its pin. */
  private readonly verified = new Map<string, string>();
  /** Hashes under way, by path and identity. */
  private readonly hashing = new Map<string, Promise<string>>();

  constructor(readonly dir: string, private readonly pins: Readonly<Record<string, string>>) {}

  /** The pin of a path inside the dist, or null: a path the release does not have is not served. */
  private pinOf(rel: string): string | null {
    return Object.hasOwn(this.pins, rel) ? this.pins[rel]! : null;
  }

  /** Bytes read whole (index.html, rewritten scripts), checked against their pin. */
  private checked(rel: string, bytes: Buffer): Buffer {
    if (sha256Hex(bytes) !== this.pinOf(rel)) {
      log.error({ file: rel, dir: this.dir }, 'vendored viewer file does not match its pin; refused');
      throw new ViewerIntegrityError(rel);
    }
    return bytes;
  }

  /** OHIF's index.html is built for the site root; here it lives under /viewer. */
  index(): string {
    if (this.indexHtml) return this.indexHtml;
    const file = path.join(this.dir, 'index.html');
    if (!fs.existsSync(file)) throw new ServiceUnavailableError('the OHIF viewer is not installed here: run `npm run viewer:fetch`');
    this.indexHtml = this.checked('index.html', fs.readFileSync(file)).toString('utf8')
      .replace('window.PUBLIC_URL="/"', `window.PUBLIC_URL="${VIEWER}/"`)
      .replace(/(href|src)="\/(?!\/)/g, `$1="${VIEWER}/`);
    return this.indexHtml;
  }

  /**
   * The dist is built for the site root: scripts set webpack's public path (where chunks are loaded
   * from) to "/", and stylesheets load fonts from root-absolute `url(/…)`. Under /viewer both must say
   * so. Files that need it are checked, rewritten once and kept; others stream as they are.
   */
  async rewrittenForViewer(rel: string, file: string): Promise<Buffer | null> {
    if (this.rewritten.has(rel)) return this.rewritten.get(rel)!;
    if (this.pinOf(rel) === null) throw new NotFoundError('not found');
    const raw = await fs.promises.readFile(file).catch(() => { throw new NotFoundError('not found'); });
    const text = raw.toString('utf8');
    let out: string | null = null;
    if (file.endsWith('.js') && text.includes(PUBLIC_PATH)) out = text.split(PUBLIC_PATH).join(`__webpack_require__.p = "${VIEWER}/";`);
    if (file.endsWith('.css') && /url\(\/(?!\/)/.test(text)) out = text.replace(/url\(\/(?!\/)/g, `url(${VIEWER}/`);
    // Known not to need rewriting: streamed, and checked, by open().
    if (out === null) { this.rewritten.set(rel, null); return null; }
    this.checked(rel, raw);
    const buf = Buffer.from(out);
    this.rewritten.set(rel, buf);
    return buf;
  }

  /** An open descriptor of a pinned file whose bytes match its pin, with its size; the caller streams and closes it. */
  async open(rel: string, file: string): Promise<{ fd: fs.promises.FileHandle; size: number }> {
    const pin = this.pinOf(rel);
    if (pin === null) throw new NotFoundError('not found');
    // Removed or replaced since the caller's stat: as absent, not as a server fault.
    const fd = await fs.promises.open(file, 'r').catch(() => { throw new NotFoundError('not found'); });
    try {
      const st = await fd.stat();
      if (!st.isFile()) throw new NotFoundError('not found');
      const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (this.verified.get(rel) !== identity) {
        // Requests that arrive while a file is being hashed wait for that hash (a 19 MB wasm file
        // asked for by many browsers at once is read once).
        const key = `${rel}\n${identity}`;
        let hashing = this.hashing.get(key);
        if (!hashing) {
          hashing = (async () => {
            const hash = crypto.createHash('sha256');
            for await (const chunk of fd.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
            return hash.digest('hex');
          })().finally(() => this.hashing.delete(key));
          this.hashing.set(key, hashing);
        }
        if (await hashing !== pin) {
          this.verified.delete(rel);
          log.error({ file: rel, dir: this.dir }, 'vendored viewer file does not match its pin; refused');
          throw new ViewerIntegrityError(rel);
        }
        this.verified.set(rel, identity);
      }
      return { fd, size: st.size };
    } catch (err) {
      await fd.close();
      throw err;
    }
  }
}

/**
 * The page is answered for every viewer URL, and the portal's "Open in the full viewer" link puts
 * the session's bearer token in that URL (`?token=`). no-store, not no-cache: a stored answer is
 * filed under its URL, so the token would stay in the browser's disk cache (and any shared cache)
 * for its lifetime after the tab is closed and OHIF has taken it out of the address bar. The page
 * is a few kilobytes held in memory: storing it saves nothing worth that.
 */
function sendIndex(files: ViewerFiles, reply: FastifyReply): FastifyReply {
  return reply.header('content-type', TYPES['.html']).header('cache-control', 'no-store').header('content-security-policy', PAGE_CSP).send(files.index());
}

async function serve(files: ViewerFiles, request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply): Promise<FastifyReply> {
  reply.headers(SECURITY_HEADERS);
  const rel = request.params['*'] ?? '';
  if (rel === '' || rel === 'index.html') return sendIndex(files, reply);
  if (rel === 'app-config.js') return reply.header('content-type', TYPES['.js']).header('cache-control', 'no-cache').send(appConfig());
  const file = path.resolve(files.dir, rel);
  // Never outside the dist folder, whatever the path says.
  if (!file.startsWith(files.dir + path.sep) || rel.includes('\0')) throw new NotFoundError('not found');
  const key = path.relative(files.dir, file).split(path.sep).join('/');
  const stat = await fs.promises.stat(file).catch(() => null);
  if (!stat?.isFile()) {
    // Client-side routes (/viewer/viewer?StudyInstanceUIDs=…) are the single-page app's own.
    if (!path.extname(rel)) return sendIndex(files, reply);
    throw new NotFoundError('not found');
  }
  if (rel.endsWith('.js') || rel.endsWith('.css')) {
    const body = await files.rewrittenForViewer(key, file);
    if (body) return reply.header('content-type', TYPES[path.extname(rel)]!).header('cache-control', 'public, max-age=300').send(body);
  }
  const { fd, size } = await files.open(key, file);
  const hashed = /\.[0-9a-f]{16}\.|\.[0-9a-f]{16}$/.test(path.basename(rel));
  return reply.header('content-type', TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream')
    .header('content-length', size)
    .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
    .send(fd.createReadStream({ start: 0 }));
}

let defaults: ViewerFiles | null = null;
/** The installed release (OBIA_OHIF_DIR, else vendor/ohif/<version>) against this code's pins. */
function defaultFiles(): ViewerFiles {
  defaults ??= new ViewerFiles(path.resolve(process.env.OBIA_OHIF_DIR ?? path.join(process.cwd(), 'vendor', 'ohif', OHIF_VERSION)), OHIF_FILE_SHA256);
  return defaults;
}

/** OHIF v3 at /viewer from `files` (the pinned release unless a test gives its own). */
export function viewerRoutesOf(files: () => ViewerFiles): RoutePlugin {
  return async (app) => {
    app.get(VIEWER, (_request, reply) => reply.redirect(`${VIEWER}/`));
    app.get<{ Params: { '*': string } }>(`${VIEWER}/*`, (request, reply) => serve(files(), request, reply));
  };
}

/** OHIF v3 at /viewer, against this archive's /dicom-web (the prebuilt dist scripts/fetch-ohif.mjs verified, pinned file by file). */
export const viewerRoutes: RoutePlugin = viewerRoutesOf(defaultFiles);
