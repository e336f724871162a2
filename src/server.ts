import { bootstrap, type App } from './app.js';
import { installProcessFaultHandlers } from './http/processFaults.js';
import { logger } from './log.js';
import { startTracingFromEnv } from './ops/tracing.js';

/**
 * `npm start`: the archive on the embedded defaults, seeded on first start with real images
 * (OBIA_SEED=metadata: metadata rows only, at OBIA_SEED_SCALE; OBIA_SEED=0: no seed).
 */
const seed = process.env.OBIA_SEED === '0' ? false as const
  : process.env.OBIA_SEED === 'metadata' ? { scale: Number(process.env.OBIA_SEED_SCALE ?? 0.02) } : { images: true as const };
let app: App | null = null;
// Before anything starts: a stray rejection keeps the hub serving, an uncaught exception drains
// it and exits 1 for the supervisor to restart (why: src/http/processFaults.ts).
// The drain's bound: responses in flight get the shutdown grace (app.close cuts them after it), and
// ingest lanes, the worker threads and the database a little more to finish closing.
installProcessFaultHandlers({ log: logger, drain: async () => { await app?.close(); }, drainMs: (Number(process.env.OBIA_SHUTDOWN_GRACE_MS) || 10_000) + 10_000 });
// Traces of HTTP and GraphQL when OTEL_TRACES_EXPORTER names an exporter (off by default).
startTracingFromEnv()
  .then(async (tracing) => {
    app = await bootstrap({ seedIfEmpty: seed });
    logger.info(`OBIA Hub: portal at ${app.url}/, GraphQL at ${app.url}/graphql (database: ${app.config.databaseUrl ? app.config.databaseUrl.replace(/\/\/[^@]*@/, '//***@') : 'embedded SQLite in ' + app.config.dataDir})`);
    const running = app;
    const stop = () => running.close().then(() => tracing?.shutdown()).then(() => process.exit(0), () => process.exit(1));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err) => {
    logger.fatal({ err }, 'OBIA Hub failed to start');
    process.exit(1);
  });
