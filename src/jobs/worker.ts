// `npm run worker`: an ingest worker process (issue 18). Run any number, on any host that reaches
// the archive's database, Redis (`OBIA_REDIS_URL`) and blob storage, with the hub's configuration
// (the same environment variables, including the archive secret in the keys directory): it takes
// plan, batch and finish jobs from the queue the hubs fill (OBIA_JOBS=bullmq) and publishes
// progress, QC events and new hash codes through Redis, so every hub's subscribers and similarity
// index see them. SIGTERM lets the jobs in hand finish; a SIGKILLed worker's jobs go to another.
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { connectRedisEvents } from '../events/redisBus.js';
import { createIngest } from '../ingest/index.js';
import { logger } from '../log.js';
import { attachQcEvents } from '../qc/pipelineEvents.js';
import { HashCatalog } from '../similarity/HashCatalog.js';
import { startTracingFromEnv } from '../ops/tracing.js';
import { installProcessFaultHandlers } from '../http/processFaults.js';
import { IngestWorker } from './processor.js';

/** What SIGTERM runs once the worker is up; an uncaught exception drains through it too. */
let drain: (() => Promise<void>) | null = null;
// A stray rejection (a job's, a Redis client's) keeps the worker taking jobs; an uncaught exception
// drains it and exits 1, its jobs going to another worker (why: src/http/processFaults.ts).
installProcessFaultHandlers({ log: logger.child({ component: 'worker' }), drain: async () => { await drain?.(); } });

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.redisUrl) throw new Error('npm run worker needs OBIA_REDIS_URL (the Redis the hubs queue ingest jobs on)');
  const log = logger.child({ component: 'worker' });
  const tracing = await startTracingFromEnv(process.env, 'obia-worker');
  // The primary only: the pipeline's reads decide what it writes next (OBIA_DATABASE_REPLICAS is for hubs' reads).
  const orm = await openDatabase({ ...config, databaseReplicas: [] });
  const events = await connectRedisEvents(config.redisUrl, logger);
  // Publishes the codes it stores to the hubs' indexes; answers no queries, so holds none of theirs.
  const catalog = new HashCatalog();
  catalog.share({ listen: false });
  const ingest = createIngest(orm, config, null, { catalog });
  await ingest.verifySecret();
  attachQcEvents(orm.em as EntityManager, ingest);
  const worker = new IngestWorker(orm, ingest.pipeline, {
    redisUrl: config.redisUrl,
    concurrency: Math.max(1, Number(process.env.OBIA_INGEST_CONCURRENCY) || 2),
    lockMs: config.jobs?.lockMs ?? 30_000,
    log,
    onActive: (job) => process.send?.({ active: job }),
    onCompleted: (job) => process.send?.({ completed: job }),
  });
  await worker.waitUntilReady();
  log.info({ pid: process.pid }, 'ingest worker ready');
  process.send?.({ ready: true });

  let stopping = false;
  drain = async () => {
    log.info('ingest worker stopping: finishing the jobs in hand');
    await worker.close();
    await ingest.pipeline.close();
    await catalog.close();
    await events.release();
    await orm.close(true);
    await tracing?.shutdown();
  };
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // A drain that fails still ends the process (non-zero): a worker half closed takes no jobs.
    await drain!().then(() => process.exit(0), (err) => { log.error({ err }, 'ingest worker stopped with an error'); process.exit(1); });
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // Started by a parent over IPC (tests): its going away stops the worker too.
  process.once('disconnect', () => void stop());
}

main().catch((err) => {
  logger.error({ err }, 'ingest worker failed to start');
  process.exit(1);
});
