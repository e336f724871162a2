/**
 * The web portal (portal/, built by `npm run build:portal` into portal/dist), served at `/` from
 * the same origin as /graphql. One function decides what a GET answers — a built file, or
 * index.html for a client-side route — and two thin adapters write it: `servePortal` for the
 * node:http router and `portalPlugin` for Fastify (`app.register(portalPlugin)`).
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { logger } from '../log.js';

const log = logger.child({ module: 'portal' });

/** portal/dist next to the package root (this file compiles to dist/src/http/portal.js). */
export const DEFAULT_PORTAL_DIR = path.resolve(__dirname, '../../../portal/dist');

/** Paths owned by the API: never answered with the portal's index.html, so clients get an honest 404. */
const API_PREFIXES = ['/graphql', '/files/', '/thumbnails/', '/previews/', '/redactions/', '/query-images', '/submissions/', '/auth/', '/health', '/ready', '/metrics',
  '/.well-known/', '/dicom-web', '/viewer', '/ga4gh/'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt', '.map']);

export interface PortalResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Cached { mtimeMs: number; raw: Buffer; gzip: Buffer | null }

/** What the portal answers for one request; null when the path is not the portal's (the caller 404s). */
export class PortalFiles {
  /** Files read (and gzipped) once per modification time: the bundle is small and hot. */
  private readonly cache = new Map<string, Cached>();

  private readonly csp: string;

  /** `connectTo`: other origins the portal may call (an external OIDC issuer's discovery and token endpoints). */
  constructor(readonly dir: string = process.env.OBIA_PORTAL_DIR ? path.resolve(process.env.OBIA_PORTAL_DIR) : DEFAULT_PORTAL_DIR, options: { connectTo?: string[] } = {}) {
    // The portal loads only its own scripts; images may be blob: URLs made from authorised fetches.
    // Connections only to this origin (its graphql-ws socket included: CSP3's 'self' matches ws:
    // and wss: on the same host, checked in chromium) and the OIDC issuer. Bare "ws: wss:" let a
    // page open a socket to any host, the one way left for injected script to send the
    // sessionStorage token elsewhere (img-src and default-src allow no other origin).
    const connect = ["'self'", ...(options.connectTo ?? [])].join(' ');
    this.csp = `default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src ${connect}; frame-ancestors 'none'`;
  }

  answer(method: string, pathname: string, headers: http.IncomingHttpHeaders): PortalResponse | null {
    if (method !== 'GET' && method !== 'HEAD') return null;
    if (API_PREFIXES.some((p) => pathname === p || pathname.startsWith(p))) return null;
    let decoded: string;
    try { decoded = decodeURIComponent(pathname); } catch { return null; }
    // Resolved inside the dist folder or not at all: "/../" and encoded variants cannot escape it.
    const file = path.resolve(this.dir, '.' + path.posix.normalize('/' + decoded));
    if (file !== this.dir && !file.startsWith(this.dir + path.sep)) return null;
    // A known file type is a file; anything else is a client-side route (/series/1.2.840… has dots
    // but is a page), answered with index.html when a browser asks for a page.
    const isFile = Object.hasOwn(TYPES, path.extname(file));
    // Only a browser navigating (Accept names text/html) gets index.html for an unknown path; an API
    // client (`*/*`, JSON) gets the API's 404 NOT_FOUND, so a mistyped route is never a 200 page.
    const accept = String(headers.accept ?? '*/*');
    const wantsPage = !isFile && (/text\/html/.test(accept) || (pathname === '/' && accept.includes('*/*')));
    const target = isFile ? file : wantsPage ? path.join(this.dir, 'index.html') : null;
    if (!target) return null;
    const cached = this.read(target);
    if (!cached) {
      if (target.endsWith('index.html')) {
        return { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
          body: Buffer.from('The portal is not built: run `npm run build:portal` (npm start does it when needed).\n') };
      }
      return null;
    }
    const type = TYPES[path.extname(target)] ?? 'application/octet-stream';
    // Vite names assets by content hash, so they never change; index.html must always be revalidated.
    const immutable = target.includes(`${path.sep}assets${path.sep}`);
    const out: Record<string, string> = {
      'content-type': type,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      // On every answer, not the page alone: an SVG or a JSON file opened as a document is framed
      // and leaks its URL as a page would (X-Frame-Options for browsers without frame-ancestors).
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
      vary: 'accept-encoding',
    };
    if (type.startsWith('text/html') || type.startsWith('image/svg')) out['content-security-policy'] = this.csp;
    const gzip = cached.gzip && /\bgzip\b/.test(String(headers['accept-encoding'] ?? ''));
    if (gzip) out['content-encoding'] = 'gzip';
    const body = gzip ? cached.gzip! : cached.raw;
    out['content-length'] = String(body.length);
    return { status: 200, headers: out, body: method === 'HEAD' ? Buffer.alloc(0) : body };
  }

  private read(file: string): Cached | null {
    let stat: fs.Stats;
    try {
      // Through a symbolic link only to a file inside the folder: a link in the dist (copied from
      // portal/public, or made in a deployed folder) must not serve /etc/passwd or the hub's config.
      const real = fs.realpathSync(file);
      const root = fs.realpathSync(this.dir);
      if (!real.startsWith(root + path.sep)) return null;
      stat = fs.statSync(real);
    } catch { return null; }
    if (!stat.isFile()) return null;
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
    const raw = fs.readFileSync(file);
    const entry: Cached = { mtimeMs: stat.mtimeMs, raw, gzip: COMPRESSIBLE.has(path.extname(file)) && raw.length > 512 ? zlib.gzipSync(raw, { level: 9 }) : null };
    this.cache.set(file, entry);
    return entry;
  }
}

/** The slice of Fastify's API the plugin uses, so this module needs no runtime import of Fastify. */
interface FastifyLike {
  get(path: string, handler: (request: { method: string; url: string; headers: http.IncomingHttpHeaders }, reply: FastifyReplyLike) => unknown): unknown;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(body?: unknown): FastifyReplyLike;
  callNotFound(): void;
}

/**
 * Fastify plugin: `await app.register(portalPlugin, { dir })`. A wildcard GET (Fastify adds HEAD)
 * that ranks below every specific route, so the API's own routes always win.
 */
export async function portalPlugin(fastify: FastifyLike, opts: { dir?: string; connectTo?: string[] } = {}): Promise<void> {
  const portal = new PortalFiles(opts.dir, { connectTo: opts.connectTo });
  fastify.get('/*', (request, reply) => {
    const answer = portal.answer(request.method, new URL(request.url, 'http://localhost').pathname, request.headers);
    if (!answer) return reply.callNotFound();
    if (answer.status !== 200) log.warn({ dir: portal.dir }, 'portal requested but not built');
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
}
// Fastify reads this to register the plugin without encapsulation (fastify-plugin's convention),
// so its route lives in the root scope next to the API's.
(portalPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
