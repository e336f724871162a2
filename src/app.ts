import 'reflect-metadata';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { unwrapResolverError } from '@apollo/server/errors';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { AccessModule } from './access/module.js';
import { accessRoutes } from './access/routes.js';
import { LocalIssuer } from './auth/issuer.js';
import { TokenVerifier } from './auth/verifier.js';
import { loadConfig, type Config } from './config.js';
import { contextFactory, type RequestContext } from './context.js';
import { createIngest } from './ingest/index.js';
import { uploadRoute } from './ingest/uploadRoute.js';
import { openDatabase } from './db/orm.js';
import { federationPlugins } from './graphql/federation.js';
import { queryLimitsPlugin } from './graphql/limits.js';
import { buildObiaSchema } from './graphql/schema.js';
import { HttpError, readBody, sendJson, type Route } from './http/router.js';
import { BlobStore } from './storage/BlobStore.js';
import { HashCatalog } from './similarity/HashCatalog.js';
import { attachQcEvents } from './qc/pipelineEvents.js';
import { previewRoutes } from './qc/previewRoute.js';

const MAX_GRAPHQL_BODY = 28 * 1024 * 1024;

export interface BootstrapOptions {
  config?: Partial<Config>;
  /** Seed the archive when it holds no collection yet (what `npm start` does). */
  seedIfEmpty?: { scale: number } | false;
  /** Listen on config.port; false keeps the app unbound (tests pick an ephemeral port with port 0). */
  listen?: boolean;
  log?: (message: string) => void;
}

export interface App {
  config: Config;
  orm: MikroORM;
  issuer: LocalIssuer;
  server: http.Server;
  url: string;
  createContext: (authorization?: string | null) => Promise<RequestContext>;
  /** The Hamming index of stored images; the ingest pipeline adds to it. */
  hashCatalog: HashCatalog;
  close: () => Promise<void>;
}

/** Starts the whole archive: database, identity, GraphQL over HTTP and WebSocket, and the HTTP routes. */
export async function bootstrap(options: BootstrapOptions = {}): Promise<App> {
  const config = { ...loadConfig(), ...options.config };
  const log = options.log ?? ((m: string) => console.log(m));
  const orm = await openDatabase(config);

  if (options.seedIfEmpty) {
    const { seedIfEmpty } = await import('../seeds/seed.js');
    const seeded = await seedIfEmpty(orm, { scale: options.seedIfEmpty.scale });
    if (seeded) log(`seeded ${seeded.collections} collections, ${seeded.individuals} individuals, ${seeded.studies} studies, ${seeded.series} series, ${seeded.images} images`);
  }

  const issuer = await LocalIssuer.open(config);
  const verifier = new TokenVerifier(config, config.oidc.jwksUrl ? null : issuer.jwks);
  const hashCatalog = await HashCatalog.load(orm.em.fork() as EntityManager);
  const ingest = createIngest(orm, config, log, { catalog: hashCatalog });
  // One blob store: downloads read what the pipeline wrote.
  const access = AccessModule.open(orm, config, verifier, ingest.store);
  // QC (issue 4): the pipeline's quarantines and duplicates become QC events as they happen.
  attachQcEvents(orm.em as EntityManager, ingest, log);
  const createContext = contextFactory(orm, verifier, hashCatalog, ingest);
  const schema = await buildObiaSchema();

  const routes: Route[] = [
    { method: 'GET', path: /^\/health$/, handle: async (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    { method: 'GET', path: /^\/\.well-known\/jwks\.json$/, handle: async (_req, res) => sendJson(res, 200, issuer.jwks) },
    ...accessRoutes(access),
    ...previewRoutes(access),
    ...uploadRoute(ingest, createContext),
  ];

  const server = http.createServer();
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server }), queryLimitsPlugin(schema, config.limits), ...federationPlugins(config.gatewaySecret)],
    formatError: (formatted, error) => maskUnexpected(formatted, error, log),
  });
  await apollo.start();

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/graphql') return await serveGraphQL(req, res, url);
      const route = routes.find((r) => r.method === req.method && r.path.test(url.pathname));
      if (!route) throw new HttpError(404, 'not found');
      await route.handle(req, res, url);
    } catch (err) {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        // GraphQL clients get a GraphQL-shaped body; other routes a plain one.
        return sendJson(res, err.status, req.url?.startsWith('/graphql')
          ? { errors: [{ message: err.message, extensions: { code: err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' } }] }
          : { error: err.message });
      }
      log(`unexpected error on ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      sendJson(res, 500, { error: 'internal server error' });
    }
  });

  async function serveGraphQL(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    // Large enough for a base64 image upload to similarImages (20 MB decoded), no larger.
    const raw = req.method === 'POST' ? await readBody(req, MAX_GRAPHQL_BODY) : '';
    let body: unknown = raw;
    if (raw && (headers.get('content-type') ?? '').includes('application/json')) {
      try { body = JSON.parse(raw); } catch { throw new HttpError(400, 'request body is not valid JSON'); }
    }
    const request: HTTPGraphQLRequest = { method: req.method ?? 'GET', headers, search: url.search, body };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: request,
      context: () => createContext(req.headers.authorization),
    });
    res.statusCode = response.status ?? 200;
    for (const [key, value] of response.headers) res.setHeader(key, value);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  const wss = new WebSocketServer({ server, path: '/graphql' });
  const wsCleanup = useServer({
    schema,
    context: (ctx) => {
      const params = ctx.connectionParams as Record<string, unknown> | undefined;
      const auth = (params?.authorization ?? params?.Authorization) as string | undefined;
      return createContext(auth);
    },
  }, wss);

  const port = options.listen === false ? 0 : config.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://localhost:${address.port}`;
  // Download links point here unless OBIA_PUBLIC_URL names the address clients use.
  if (!process.env.OBIA_PUBLIC_URL) access.baseUrl = url;

  return {
    config, orm, issuer, server, url, createContext, hashCatalog,
    close: async () => {
      await wsCleanup.dispose();
      wss.close();
      await apollo.stop();
      // Running ingest lanes finish (or park) their batch and the worker threads stop (SIGTERM).
      await ingest.pipeline.close();
      await orm.close(true);
    },
  };
}

/** Expected errors keep their message and code; anything else is logged and masked. */
function maskUnexpected(formatted: GraphQLFormattedError, error: unknown, log: (m: string) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const code = formatted.extensions?.code;
  if (original instanceof GraphQLError || (code && code !== 'INTERNAL_SERVER_ERROR')) return formatted;
  log(`internal error: ${(original as Error)?.stack ?? original}`);
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
