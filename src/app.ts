import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { FastifyInstance } from 'fastify';
import type http from 'node:http';
import { AccessModule } from './access/module.js';
import { accessRoutes } from './access/routes.js';
import { LocalIssuer } from './auth/issuer.js';
import { TokenVerifier } from './auth/verifier.js';
import { loadConfig, type Config } from './config.js';
import { contextFactory, type CreateContext, type RequestContext } from './context.js';
import { dicomWebRoutes } from './dicomweb/routes.js';
import { viewerRoutes } from './dicomweb/viewerRoute.js';
import { createIngest } from './ingest/index.js';
import { uploadRoute } from './ingest/uploadRoute.js';
import { openDatabase } from './db/orm.js';
import { federationPlugins } from './graphql/federation.js';
import { queryLimitsPlugin } from './graphql/limits.js';
import { buildObiaSchema } from './graphql/schema.js';
import { authenticator } from './http/authenticate.js';
import type { Door } from './http/door.js';
import { attachGraphqlWs, graphqlRoutes, maskError } from './http/graphql.js';
import { metaRoutes } from './http/routes/meta.js';
import { buildHttpServer } from './http/server.js';
import { logger } from './log.js';
import { portalPlugin } from './http/portal.js';
import { signInOrigins, signInRoutes } from './auth/signIn.js';
import { HashCatalog } from './similarity/HashCatalog.js';
import { QueryImages } from './similarity/QueryImages.js';
import { queryImageRoute } from './similarity/queryImageRoute.js';
import { attachQcEvents } from './qc/pipelineEvents.js';
import { previewRoutes } from './qc/previewRoute.js';
import { redactionPreviewRoutes } from './deid/burnedInText/previewRoute.js';
import { passportConfigFromEnv } from './ga4gh/passport/config.js';
import { PassportVerifier } from './ga4gh/passport/PassportVerifier.js';
import { releasesConfigFromEnv } from './releases/config.js';
import { ReleasesModule } from './releases/module.js';
import { drsDoorPlugin } from './ga4gh/drs/routes.js';
import { OpsMetrics } from './ops/metrics.js';
import { blobStoreDependency, databaseDependency, redisDependency } from './ops/readiness.js';
import { opsRoutes } from './ops/routes.js';
import { tracingPlugin } from './ops/tracing.js';
import { proxyTrust } from './http/clientAddress.js';

export interface BootstrapOptions {
  config?: Partial<Config>;
  /**
   * Seed the archive when it holds no collection yet: `{ images: true }` (what `npm start` does)
   * with real images through the submission path; `{ scale }` with metadata rows only (benchmarks).
   */
  seedIfEmpty?: { scale: number } | { images: true } | false;
  /** Listen on config.port; false keeps the app unbound (tests pick an ephemeral port with port 0). */
  listen?: boolean;
  log?: (message: string) => void;
}

export interface App {
  config: Config;
  orm: MikroORM;
  issuer: LocalIssuer;
  /** The Fastify instance (routes, hooks); `server` is its Node HTTP server. */
  http: FastifyInstance;
  server: http.Server;
  url: string;
  /** What route plugins are given: authenticate, the context builder, the app's modules. */
  door: Door;
  /** A request context for an Authorization header value (tests and scripts). */
  createContext: (authorization?: string | null) => Promise<RequestContext>;
  /** The Hamming index of stored images; the ingest pipeline adds to it. */
  hashCatalog: HashCatalog;
  /** graphql-ws connections admitted and open now (tests and metrics read it). */
  websockets: () => number;
  close: () => Promise<void>;
}

/** Starts the whole archive: database, identity, GraphQL over HTTP and WebSocket, and the HTTP routes. */
export async function bootstrap(options: BootstrapOptions = {}): Promise<App> {
  const config = { ...loadConfig(), ...options.config };
  const log = options.log ?? ((m: string) => logger.info(m));
  const orm = await openDatabase(config);

  if (options.seedIfEmpty && 'scale' in options.seedIfEmpty) {
    const { seedIfEmpty } = await import('../seeds/seed.js');
    const seeded = await seedIfEmpty(orm, { scale: options.seedIfEmpty.scale });
    if (seeded) log(`seeded ${seeded.collections} collections, ${seeded.individuals} individuals, ${seeded.studies} studies, ${seeded.series} series, ${seeded.images} images`);
  }

  const issuer = await LocalIssuer.open(config);
  // GA4GH passports from trusted brokers are accepted wherever a bearer token is (issue 19).
  const passports = new PassportVerifier(config.passports ?? passportConfigFromEnv());
  const verifier = new TokenVerifier(config, config.oidc.jwksUrl ? null : issuer.jwks, { passports });
  // Replicas (issue 18): with Redis, events and similarity-index updates reach every hub.
  // Redis, BullMQ (below) and S3 (src/storage/open.ts) load only when configured: their modules
  // cost every process that starts the app ≈ 0.1 CPU-s each, and most (tests, `npm start`) use none.
  const events = config.redisUrl ? await (await import('./events/redisBus.js')).connectRedisEvents(config.redisUrl, logger) : null;
  const hashCatalog = await HashCatalog.load(orm.em.fork() as EntityManager, undefined, { share: events !== null });
  // With read replicas, ingest keeps to the primary (its own pool without them): its reads decide
  // what to write next (a file's state), and a replica's lag would make it redo or skip work.
  const primary = config.databaseReplicas?.length ? await openDatabase({ ...config, databaseReplicas: [] }) : orm;
  const ingest = createIngest(primary, config, log, { catalog: hashCatalog });
  await ingest.verifySecret();
  // Ingest as jobs (issue 18): processSubmission enqueues, `npm run worker` processes run them.
  if (config.jobs?.mode === 'bullmq' && !config.redisUrl) throw new Error('OBIA_JOBS=bullmq needs OBIA_REDIS_URL');
  const jobs = config.jobs?.mode === 'bullmq' ? await (await import('./jobs/queue.js')).IngestJobs.open(config.redisUrl!, primary, ingest.pipeline) : null;
  // One blob store: downloads read what the pipeline wrote.
  const access = AccessModule.open(orm, config, verifier, ingest.store);
  // Collection versions, tombstones and DOIs (issue 19).
  ReleasesModule.open(orm, config.releases ?? releasesConfigFromEnv(), access, hashCatalog, { passports: passports.visaIssuers, bearer: [config.oidc.issuer] });
  // QC (issue 4): the pipeline's quarantines and duplicates become QC events as they happen.
  attachQcEvents(orm.em as EntityManager, ingest, log);
  // The default archive goes through the same submission path, QC and release (with its version) as any submission.
  if (options.seedIfEmpty && 'images' in options.seedIfEmpty) await (await import('../seeds/imageSeed.js')).seedImagesIfEmpty(orm, ingest, log);
  const authenticate = authenticator(verifier);
  const queryImages = new QueryImages();
  const createContext: CreateContext = contextFactory(authenticate, { orm, access, hashCatalog, ingest, queryImages });
  const door: Door = { config, authenticate, createContext, access, ingest, log: logger, trust: proxyTrust(config.trustProxy) };
  const metrics = new OpsMetrics(orm, hashCatalog, ingest);
  if (jobs) metrics.watchJobs(jobs);
  const schema = await buildObiaSchema();
  const queryLimits = config.limits;

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // Every operation is guarded before it gets here; these are defence in depth.
    parseOptions: { maxTokens: queryLimits.maxTokens },
    persistedQueries: false,
    // Cache control off: no type carries a cache hint and no CDN reads Cache-Control here, yet the
    // plugin (on by default) wraps every field resolver, 50 series x 5 fields a browse page.
    plugins: [queryLimitsPlugin(schema, queryLimits), ...federationPlugins(config.gatewaySecret), metrics.apolloPlugin(), ApolloServerPluginCacheControlDisabled(), tracingPlugin()],
    formatError: (formatted, error) => maskError(formatted, error, logger),
  });
  await apollo.start();

  // Every route family, registered once here (README: "Adding a route").
  const fastify = await buildHttpServer(door, [
    // First: its request-timing hook covers every route. /metrics, /health, /ready (issue 18).
    opsRoutes(metrics, [databaseDependency(orm), blobStoreDependency(ingest.store), ...(events ? [redisDependency(events.ping)] : [])], config.metricsToken ?? null),
    metaRoutes(() => issuer.jwks),
    graphqlRoutes(apollo, schema, queryLimits),
    accessRoutes,
    previewRoutes,
    redactionPreviewRoutes,
    uploadRoute,
    queryImageRoute(hashCatalog, queryImages),
    signInRoutes(config, issuer),
    // GA4GH DRS 1.4 (issue 19).
    drsDoorPlugin(passports),
    // DICOMweb (issue 15) and the OHIF viewer over it.
    dicomWebRoutes,
    viewerRoutes,
    // The portal's wildcard GET ranks below every specific route, so the API's own routes win.
    async (app) => portalPlugin(app, { connectTo: signInOrigins(config) }),
  ]);
  metrics.watchBodies(fastify.bodyBudget);
  const ws = attachGraphqlWs(fastify.server, schema, door, queryLimits,
    { perConnection: queryLimits.subscriptionsPerConnection, perUser: queryLimits.subscriptionsPerUser, connectionsPerUser: queryLimits.websocketsPerUser }, logger);

  // Tests and benches (listen: false) take an ephemeral port on loopback only.
  const host = options.listen === false ? '127.0.0.1' : config.host;
  await fastify.listen({ port: options.listen === false ? 0 : config.port, host });
  const address = fastify.server.address() as { port: number };
  const url = `http://${host === '127.0.0.1' ? '127.0.0.1' : 'localhost'}:${address.port}`;
  // Download links point here unless OBIA_PUBLIC_URL names the address clients use.
  if (!process.env.OBIA_PUBLIC_URL) access.baseUrl = url;

  return {
    config, orm, issuer, http: fastify, server: fastify.server, url, door, hashCatalog, websockets: ws.open,
    createContext: (authorization) => createContext({ headers: authorization ? { authorization } : {} }, { recordUser: true }),
    close: async () => {
      await ws.close();
      // Responses in flight get the grace to end; a client that stopped reading one does not hold the shutdown longer.
      const cut = setTimeout(() => fastify.server.closeAllConnections(), config.limits.shutdownGraceMs).unref();
      try {
        await fastify.close();
      } finally {
        clearTimeout(cut);
      }
      await apollo.stop();
      // Running ingest lanes finish (or park) their batch and the worker threads stop (SIGTERM).
      await jobs?.close();
      await ingest.pipeline.close();
      await hashCatalog.close();
      await events?.release();
      await ingest.store.close();
      if (primary !== orm) await primary.close(true);
      await orm.close(true);
    },
  };
}
