import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { RoutePlugin } from '../http/server.js';
import { ROOT } from './routes.js';

/** The OHIF release scripts/fetch-ohif.mjs fetches and verifies. */
export const OHIF_VERSION = '3.13.2';
export const VIEWER = '/viewer';
const dist = path.resolve(process.env.OBIA_OHIF_DIR ?? path.join(process.cwd(), 'vendor', 'ohif', OHIF_VERSION));

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

let indexHtml: string | null = null;

/** OHIF's index.html is built for the site root; here it lives under /viewer. */
function index(): string {
  if (indexHtml) return indexHtml;
  const file = path.join(dist, 'index.html');
  if (!fs.existsSync(file)) throw new ServiceUnavailableError('the OHIF viewer is not installed here: run `npm run viewer:fetch`');
  indexHtml = fs.readFileSync(file, 'utf8')
    .replace('window.PUBLIC_URL="/"', `window.PUBLIC_URL="${VIEWER}/"`)
    .replace(/(href|src)="\/(?!\/)/g, `$1="${VIEWER}/`);
  return indexHtml;
}

function sendIndex(reply: FastifyReply): FastifyReply {
  return reply.header('content-type', TYPES['.html']).header('cache-control', 'no-cache').send(index());
}

const PUBLIC_PATH = '__webpack_require__.p = "/";';
const rewritten = new Map<string, Buffer | null>();

/**
 * The dist is built for the site root: scripts set webpack's public path (where chunks are loaded
 * from) to "/", and stylesheets load fonts from root-absolute `url(/…)`. Under /viewer both must say
 * so. Files that need it are rewritten once and kept; others stream as they are.
 */
async function rewrittenForViewer(file: string): Promise<Buffer | null> {
  if (rewritten.has(file)) return rewritten.get(file)!;
  const text = await fs.promises.readFile(file, 'utf8');
  let out: string | null = null;
  if (file.endsWith('.js') && text.includes(PUBLIC_PATH)) out = text.split(PUBLIC_PATH).join(`__webpack_require__.p = "${VIEWER}/";`);
  if (file.endsWith('.css') && /url\(\/(?!\/)/.test(text)) out = text.replace(/url\(\/(?!\/)/g, `url(${VIEWER}/`);
  const buf = out === null ? null : Buffer.from(out);
  rewritten.set(file, buf);
  return buf;
}

async function serve(request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const rel = request.params['*'] ?? '';
  if (rel === '' || rel === 'index.html') return sendIndex(reply);
  if (rel === 'app-config.js') return reply.header('content-type', TYPES['.js']).header('cache-control', 'no-cache').send(appConfig());
  const file = path.resolve(dist, rel);
  // Never outside the dist folder, whatever the path says.
  if (!file.startsWith(dist + path.sep) || rel.includes('\0')) throw new NotFoundError('not found');
  const stat = await fs.promises.stat(file).catch(() => null);
  if (!stat?.isFile()) {
    // Client-side routes (/viewer/viewer?StudyInstanceUIDs=…) are the single-page app's own.
    if (!path.extname(rel)) return sendIndex(reply);
    throw new NotFoundError('not found');
  }
  if (rel.endsWith('.js') || rel.endsWith('.css')) {
    const body = await rewrittenForViewer(file);
    if (body) return reply.header('content-type', TYPES[path.extname(rel)]!).header('cache-control', 'public, max-age=300').send(body);
  }
  const hashed = /\.[0-9a-f]{16}\.|\.[0-9a-f]{16}$/.test(path.basename(rel));
  return reply.header('content-type', TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream')
    .header('content-length', stat.size)
    .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
    .send(fs.createReadStream(file));
}

/** OHIF v3 at /viewer, against this archive's /dicom-web (the prebuilt dist scripts/fetch-ohif.mjs verified). */
export const viewerRoutes: RoutePlugin = async (app) => {
  app.get(VIEWER, (_request, reply) => reply.redirect(`${VIEWER}/`));
  app.get<{ Params: { '*': string } }>(`${VIEWER}/*`, serve);
};
