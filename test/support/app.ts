import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import { bootstrap, type App } from '../../src/app.js';
import type { Role } from '../../src/auth/Principal.js';
import type { Config } from '../../src/config.js';
import { tapLog } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestApp extends App {
  /** POSTs a GraphQL operation over real HTTP; returns the parsed body and the status. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; data?: T; errors?: any[] }>;
  token(sub: string, ...roles: Role[]): Promise<string>;
  /** Counts SQL statements the app sends while `fn` runs. */
  countQueries(fn: () => Promise<unknown>): Promise<number>;
  /** Every line the app logged (its own messages and the structured log of src/log.ts), as written. */
  logs: string[];
  /** The app's database; it outlives the app when the test passed one in. */
  db: TestDatabase;
  stop(): Promise<void>;
}

/** The same layout loadConfig derives from OBIA_DATA_DIR, so a CLI given only that env var agrees. */
export function appConfig(db: TestDatabase): Partial<Config> {
  return { databaseUrl: db.databaseUrl, dataDir: db.dataDir, keysDir: `${db.dataDir}/keys`, stagingDir: `${db.dataDir}/staging`, backupDir: `${db.dataDir}/backup` };
}

/**
 * Starts the very app `npm start` runs, on an ephemeral port and a database of its own, or on
 * `opts.db` (made by the test, e.g. for a CLI to work on first; then the test drops it).
 */
export async function startTestApp(opts: { seedScale?: number; seedImages?: boolean; config?: Partial<Config>; db?: TestDatabase } = {}): Promise<TestApp> {
  const db: TestDatabase = opts.db ?? await createTestDatabase({ migrated: true });
  const logs: string[] = [];
  const untap = tapLog((line) => logs.push(line));
  const app = await bootstrap({
    config: { ...appConfig(db), ...opts.config },
    seedIfEmpty: opts.seedImages ? { images: true } : opts.seedScale ? { scale: opts.seedScale } : false,
    listen: false,
    log: (m) => logs.push(m),
  });
  const knex = (app.orm.em as EntityManager).getKnex();
  return Object.assign(app, {
    logs, db,
    async gql(query: string, variables?: Record<string, unknown>, token?: string | null) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    token(sub: string, ...roles: Role[]) {
      return app.issuer.issue({ sub, roles });
    },
    async countQueries(fn: () => Promise<unknown>) {
      let n = 0;
      const listener = () => { n++; };
      knex.on('query', listener);
      try { await fn(); } finally { knex.removeListener('query', listener); }
      return n;
    },
    async stop() {
      untap();
      await app.close();
      await new Promise((r) => app.server.close(r));
      if (!opts.db) await db.drop();
    },
  });
}
