// Moving an archive's catalogue to another database: the embedded SQLite archive an archive
// starts on (`npm start`) to the MariaDB primary it scales out to (docs/scale.md), or back for a
// copy to take away. Every row of every table, ids kept, so the data folder (keys, stored files,
// thumbnails) goes on serving the same rows. `npm test`'s MariaDB pass gets its copy of the default
// archive this way from the SQLite pass's seeding (test/support/seededArchive.ts).
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { dialectOf } from './orm.js';

/**
 * Tables a migration fills (the accession counters start at 1): a new archive has these rows, and
 * the source's replace them.
 */
const MIGRATION_ROWS = new Set(['accession_counter']);

/** Rows per INSERT: well inside MariaDB's default max_allowed_packet (16 MiB) for the catalogue's rows. */
const BATCH = 500;

/** Why a copy was refused before it wrote anything (the target is left as it was). */
export class DatabaseCopyError extends Error {
  constructor(message: string) { super(message); this.name = 'DatabaseCopyError'; }
}

export interface CopyProgress {
  table: string;
  /** Rows of this table copied so far, and in all. */
  copied: number;
  total: number;
}

export interface CopyReport {
  tables: number;
  rows: number;
  /** Rows per table, as copied. */
  byTable: Record<string, number>;
}

const knexOf = (orm: MikroORM): Knex => (orm.em as EntityManager).getKnex();
const isMysql = (orm: MikroORM): boolean => dialectOf({ databaseUrl: orm.config.get('clientUrl') ?? null }) === 'mysql';

/**
 * The catalogue's tables: its entities'. The migrator keeps its own table per database, each
 * dialect's record of the same schema version. Order does not matter: foreign keys are checked at
 * commit (SQLite) or not at all (MariaDB) while the copy runs, since rows of one table link to each other.
 */
function catalogueTables(orm: MikroORM): string[] {
  return Object.values(orm.getMetadata().getAll()).filter((m) => !m.embeddable && !m.virtual && m.tableName).map((m) => m.tableName).sort();
}

/**
 * A source value as the target column takes it. SQLite keeps datetimes as milliseconds (MikroORM's
 * mapping) and JSON as text; mysql2 reads DATETIME as a Date and a JSON column parsed.
 */
function toTarget(value: unknown, type: string, targetIsMysql: boolean): unknown {
  if (value === null || value === undefined || Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return targetIsMysql ? value : value.getTime();
  if (targetIsMysql && /date|time/i.test(type) && (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)))) return new Date(Number(value));
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

type Row = Record<string, unknown>;

/**
 * A table's rows, BATCH at a time, in bounded memory and time whatever its size: OFFSET pages
 * rescan the rows they skip (quadratic on the 1.9 M images of `npm run seed -- --scale 1`), and
 * knex's SQLite stream reads the whole result first. SQLite: keyset pages on the rowid every
 * catalogue table has. MariaDB: mysql2's row stream, which waits while a batch is written.
 */
async function* pages(src: Knex, table: string, mysql: boolean): AsyncGenerator<Row[]> {
  if (mysql) {
    let batch: Row[] = [];
    for await (const row of src(table).select('*').stream() as AsyncIterable<Row>) {
      batch.push(row);
      if (batch.length === BATCH) { yield batch; batch = []; }
    }
    if (batch.length) yield batch;
    return;
  }
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const rows: Row[] = await src(table).select(src.raw('rowid as "__rowid"'), '*').where(src.raw('rowid'), '>', after).orderByRaw('rowid').limit(BATCH);
    if (!rows.length) return;
    after = Number(rows[rows.length - 1]!.__rowid);
    yield rows.map(({ __rowid, ...row }) => row);
  }
}

/**
 * Copies every row of `from`'s catalogue into `to`, which must be migrated to the same schema
 * version and hold no rows. One transaction on the target: a copy that fails leaves it empty.
 */
export async function copyDatabase(from: MikroORM, to: MikroORM, onProgress?: (p: CopyProgress) => void): Promise<CopyReport> {
  if (from === to) throw new DatabaseCopyError('the source and the target are the same database');
  for (const [orm, which] of [[from, 'source'], [to, 'target']] as const) {
    const pending = await orm.getMigrator().getPendingMigrations();
    if (pending.length) throw new DatabaseCopyError(`the ${which} database is ${pending.length} migration(s) behind this version: start the archive on it once (or run its migrations) first`);
  }
  const src = knexOf(from);
  const dst = knexOf(to);
  const targetIsMysql = isMysql(to);
  const sourceIsMysql = isMysql(from);
  const tables = catalogueTables(to);
  const columns = new Map<string, Record<string, { type: string }>>();
  for (const table of tables) {
    const [rows] = await dst(table).count({ n: '*' });
    if (Number(rows!.n) > 0 && !MIGRATION_ROWS.has(table)) throw new DatabaseCopyError(`the target database already holds rows in ${table}: a copy goes into a new, empty archive`);
    columns.set(table, await dst(table).columnInfo() as unknown as Record<string, { type: string }>);
    const lost = Object.keys(await src(table).columnInfo()).filter((c) => !(c in columns.get(table)!));
    if (lost.length) throw new DatabaseCopyError(`the target's ${table} has no column ${lost.join(', ')}: its schema is not this version's`);
  }
  const report: CopyReport = { tables: 0, rows: 0, byTable: {} };
  await dst.transaction(async (trx) => {
    // Rows may name rows not copied yet (catalogueTables).
    if (targetIsMysql) await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
    else await trx.raw('PRAGMA defer_foreign_keys = ON');
    try {
      for (const table of MIGRATION_ROWS) await trx(table).delete();
      for (const table of tables) {
        const types = columns.get(table)!;
        const [{ n }] = await src(table).count({ n: '*' }) as [{ n: number | string }];
        const total = Number(n);
        let copied = 0;
        for await (const rows of pages(src, table, sourceIsMysql)) {
          await trx(table).insert(rows.map((row) => Object.fromEntries(Object.entries(row).map(([c, v]) => [c, toTarget(v, types[c]!.type, targetIsMysql)]))));
          copied += rows.length;
          onProgress?.({ table, copied, total });
        }
        report.byTable[table] = copied;
        report.rows += copied;
        report.tables++;
      }
    } finally {
      if (targetIsMysql) await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
    }
  });
  return report;
}
