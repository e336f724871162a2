// The default archive of real images (issue 13) is seeded through the whole ingest path:
// de-identification, QC, thumbnails, hash codes, two stored copies, review and release — about
// 28 CPU-s. Tests that need it (the default archive's own tests, the viewer) get a copy of one
// seeded archive per database pass instead of seeding their own: test/run.mjs starts this module
// as a process of its own when a pass begins (seedSharedArchive), and startSeededApp copies what
// it left (the database's tables and rows, the data folder) once it is ready.
//
// The MariaDB pass's archive is the SQLite pass's, moved the way an operator moves an embedded
// archive to MariaDB (src/db/copy.ts, `npm run db:copy`): every row into a migrated MariaDB schema,
// the data folder as it is. Seeding it again through the ingest path cost another 28 CPU-s of work
// that does not depend on the database (de-identification, OCR, codecs, the model); the ingest,
// QC and release paths run on MariaDB in their own tests, and the default archive's tests still
// read every row and file back through MariaDB.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { copyDatabase } from '../../src/db/copy.js';
import { openDatabase } from '../../src/db/orm.js';
import { appConfig, startTestApp, type TestApp } from './app.js';
import { createTestDatabase, TEST_DB, type TestDatabase } from './database.js';

/** The folder test/run.mjs gives the pass's seeded archive; unset when a test file runs on its own. */
export const SEEDED_ARCHIVE_DIR = process.env.OBIA_TEST_SEEDED_ARCHIVE || null;

/** What the seeding process leaves in the folder: the database (closed), or why there is none. */
interface Outcome { db?: { databaseUrl: string | null; dataDir: string }; kind?: string; how?: 'seeded' | 'copied'; cpuMs?: number; error?: string }

const READY = 'ready.json';

/** Waits (on the folder's events, no polling) for the seeding process's outcome. */
function outcome(dir: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const file = path.join(dir, READY);
    const read = () => {
      if (!fs.existsSync(file)) return false;
      watcher.close();
      resolve(JSON.parse(fs.readFileSync(file, 'utf8')) as Outcome);
      return true;
    };
    const watcher = fs.watch(dir, () => { read(); });
    // Written before the watch began.
    read();
  });
}

/**
 * An app on a copy of the default archive, seeded once per pass; without test/run.mjs, an app that
 * seeds its own (what startTestApp({ seedImages: true }) does). `stop()` drops the copy.
 */
export async function startSeededApp(): Promise<TestApp> {
  if (!SEEDED_ARCHIVE_DIR) return startTestApp({ seedImages: true });
  const seeded = await outcome(SEEDED_ARCHIVE_DIR);
  if (!seeded.db) throw new Error(`seeding the default archive for this pass failed: ${seeded.error}`);
  if (seeded.kind !== TEST_DB) throw new Error(`the pass's seeded archive is on ${seeded.kind}, this file on ${TEST_DB}`);
  const db = await createTestDatabase({ copyOf: { ...seeded.db, drop: async () => {} } });
  try {
    // seedImages as well: the copy holds collections, so the app seeds nothing (seedImagesIfEmpty).
    const app = await startTestApp({ db, seedImages: true });
    const stop = app.stop.bind(app);
    return Object.assign(app, { async stop() { await stop(); await db.drop(); } });
  } catch (e) {
    await db.drop();
    throw e;
  }
}

/** The SQLite pass's seeded archive (in `from`, once ready) copied into `db`: its data folder, then its rows. */
async function copySeeded(from: string, db: TestDatabase): Promise<void> {
  const seeded = await outcome(from);
  if (!seeded.db || seeded.kind !== 'sqlite') throw new Error(`the SQLite pass's seeded archive, which this pass copies, is missing: ${seeded.error}`);
  fs.cpSync(seeded.db.dataDir, db.dataDir, { recursive: true, filter: (f) => !path.basename(f).startsWith('obia.sqlite') });
  const source = await openDatabase(loadConfig({}, { databaseUrl: null, dataDir: seeded.db.dataDir }));
  const target = await openDatabase(loadConfig({}, appConfig(db)));
  try {
    await copyDatabase(source, target);
  } finally {
    await source.close(true);
    await target.close(true);
  }
}

/**
 * Run by test/run.mjs (`node dist/test/support/seededArchive.js DIR [SQLITE_DIR]`): seeds the
 * default archive into a database of its own on the pass's database (or, given the SQLite pass's
 * folder, copies that pass's archive), closes it, and writes DIR/ready.json — the database and
 * data folder, or the error. test/run.mjs drops the database after the pass.
 */
async function seedSharedArchive(dir: string, copyOf: string | undefined): Promise<void> {
  let db: TestDatabase | null = null;
  let result: Outcome;
  try {
    db = await createTestDatabase({ migrated: true });
    if (copyOf) {
      await copySeeded(copyOf, db);
    } else {
      const app = await startTestApp({ db, seedImages: true });
      await app.stop();
    }
    const cpu = process.cpuUsage();
    result = { db: { databaseUrl: db.databaseUrl, dataDir: db.dataDir }, kind: TEST_DB, how: copyOf ? 'copied' : 'seeded', cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
  } catch (e) {
    await db?.drop().catch(() => {});
    result = { error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
  // Written whole, then renamed: a waiting test reads it complete or not at all.
  fs.writeFileSync(path.join(dir, `${READY}.tmp`), JSON.stringify(result));
  fs.renameSync(path.join(dir, `${READY}.tmp`), path.join(dir, READY));
  // The app is stopped; idle pool threads and sockets left behind must not hold the process.
  process.exit(result.error ? 1 : 0);
}

if (require.main === module) {
  void seedSharedArchive(process.argv[2]!, process.argv[3]);
}
