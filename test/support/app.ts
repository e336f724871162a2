import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import { bootstrap, type App } from '../../src/app.js';
import type { Role } from '../../src/auth/Principal.js';
import type { Config } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestApp extends App {
  /** POSTs a GraphQL operation over real HTTP; returns the parsed body and the status. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; data?: T; errors?: any[] }>;
  token(sub: string, ...roles: Role[]): Promise<string>;
  /** Counts SQL statements the app sends while `fn` runs. */
  countQueries(fn: () => Promise<unknown>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the very app `npm start` runs, on a database of its own and an ephemeral port. */
export async function startTestApp(opts: { seedScale?: number; seedImages?: boolean; config?: Partial<Config> } = {}): Promise<TestApp> {
  const db: TestDatabase = await createTestDatabase();
  const logs: string[] = [];
  const app = await bootstrap({
    config: { databaseUrl: db.databaseUrl, dataDir: db.dataDir, keysDir: `${db.dataDir}/keys`, stagingDir: `${db.dataDir}/staging`, backupDir: `${db.dataDir}/backup`, ...opts.config },
    seedIfEmpty: opts.seedImages ? { images: true } : opts.seedScale ? { scale: opts.seedScale } : false,
    listen: false,
    log: (m) => logs.push(m),
  });
  const knex = (app.orm.em as EntityManager).getKnex();
  return Object.assign(app, {
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
      await app.close();
      await new Promise((r) => app.server.close(r));
      await db.drop();
    },
  });
}
