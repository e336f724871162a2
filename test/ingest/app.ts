// Like test/support/app.ts's startTestApp, for the two ingest tests that need more: the app's
// log lines (the PHI scan reads them) and a database that outlives the app (a CLI child
// process works on it first, then the app resumes its work).
import 'reflect-metadata';
import { bootstrap } from '../../src/app.js';
import type { Role } from '../../src/auth/Principal.js';
import type { Config } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { TestApp } from '../support/app.js';

export type LoggedApp = TestApp & { logs: string[]; db: TestDatabase };

export function appConfig(db: TestDatabase): Partial<Config> {
  // The same layout loadConfig derives from OBIA_DATA_DIR, so a CLI given only that env var agrees.
  return { databaseUrl: db.databaseUrl, dataDir: db.dataDir, keysDir: `${db.dataDir}/keys`, stagingDir: `${db.dataDir}/staging`, backupDir: `${db.dataDir}/backup` };
}

export async function startLoggedApp(opts: { db?: TestDatabase; config?: Partial<Config> } = {}): Promise<LoggedApp> {
  const db = opts.db ?? await createTestDatabase();
  const logs: string[] = [];
  const app = await bootstrap({ config: { ...appConfig(db), ...opts.config }, seedIfEmpty: false, listen: false, log: (m) => logs.push(m) });
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
    token(sub: string, ...roles: Role[]) { return app.issuer.issue({ sub, roles }); },
    async countQueries() { return 0; },
    async stop() {
      await app.close();
      await new Promise((r) => app.server.close(r));
      await db.drop();
    },
  }) as LoggedApp;
}
