import { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { generateArchive, type Row, type SeedArchive } from './generator.js';
import { poolCodes } from './poolCodes.js';

export interface SeedSummary { collections: number; individuals: number; studies: number; series: number; images: number }

type Progress = (done: number, total: number) => void;

async function insertChunks(trx: Knex.Transaction, table: string, rows: Row[], chunk: number) {
  for (let i = 0; i < rows.length; i += chunk) await trx(table).insert(rows.slice(i, i + chunk));
}

/**
 * Multi-row INSERTs: SQLite, and a MySQL server that refuses LOAD DATA LOCAL (local_infile off,
 * MySQL 8's default). knex writes SQLite's as a compound SELECT, which SQLite caps at 500 terms.
 */
async function insertRows(trx: Knex.Transaction, archive: SeedArchive, chunk: number, onImages?: Progress) {
  await insertChunks(trx, 'collection', archive.collections, chunk);
  await insertChunks(trx, 'individual', archive.individuals, chunk);
  await insertChunks(trx, 'study', archive.studies, chunk);
  await insertChunks(trx, 'series', archive.series, chunk);
  let done = 0;
  for (const batch of archive.images()) {
    await insertChunks(trx, 'image', batch, chunk);
    done += batch.length;
    onImages?.(done, archive.imageCount);
  }
}

/** A value as LOAD DATA reads it with FIELDS ESCAPED BY '\\': NULL is \N, the separators escaped. */
function field(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r\0]/.test(v) ? v.replace(/[\\\t\n\r\0]/g, (c) => (c === '\0' ? '\\0' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\')) : v;
}

/** Tab-separated lines of `rows` in the order of `columns`. */
function lines(rows: Row[], columns: string[]): string {
  let out = '';
  for (const r of rows) {
    for (let c = 0; c < columns.length; c++) out += (c ? '\t' : '') + field(r[columns[c]!] ?? null);
    out += '\n';
  }
  return out;
}

/**
 * MariaDB/MySQL: one LOAD DATA LOCAL INFILE per table, fed from the generator through a stream
 * (no file), in the caller's transaction. The server parses tab-separated text far faster than
 * multi-row INSERTs and the client skips knex's query building; with unique_checks and
 * foreign_key_checks off, InnoDB loads each table (empty when its load starts) in bulk: it
 * sorts and builds the indexes once instead of inserting 19 M random UIDs into a B-tree row by row.
 */
async function loadRows(trx: Knex.Transaction, archive: SeedArchive, onImages?: Progress) {
  const conn = await trx.client.acquireConnection();
  const query = (sql: string, rows?: () => Iterable<string>) => new Promise<{ affectedRows: number; warningStatus: number }>((resolve, reject) => {
    conn.query(rows ? { sql, infileStreamFactory: () => Readable.from(rows(), { objectMode: false }) } : sql, (err: Error | null, result: any) => (err ? reject(err) : resolve(result)));
  });
  const load = async (table: string, count: number, columns: string[], rows: () => Iterable<string>) => {
    // LOCAL turns duplicate keys and bad values into warnings (it cannot stop the client's stream):
    // anything but every row loaded cleanly fails the seed, and the transaction rolls back.
    const result = await query(`LOAD DATA LOCAL INFILE 'seed:${table}' INTO TABLE \`${table}\` CHARACTER SET utf8mb4 `
      + `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.map((c) => `\`${c}\``).join(', ')})`, rows);
    if (result.affectedRows !== count || result.warningStatus !== 0) {
      throw new Error(`seeding ${table}: loaded ${result.affectedRows} of ${count} rows with ${result.warningStatus} warnings`);
    }
  };
  const loadAll = (table: string, rows: Row[]) => (rows.length ? load(table, rows.length, Object.keys(rows[0]!), function* () {
    for (let i = 0; i < rows.length; i += 2000) yield lines(rows.slice(i, i + 2000), Object.keys(rows[0]!));
  }) : Promise.resolve());
  // The generator's rows reference ids it assigned itself (1..n per table, parents first), so the
  // per-row checks would find nothing; they are checked per table below instead.
  await query('SET SESSION unique_checks = 0, foreign_key_checks = 0');
  try {
    await loadAll('collection', archive.collections);
    await loadAll('individual', archive.individuals);
    await loadAll('study', archive.studies);
    await loadAll('series', archive.series);
    let columns: string[] | null = null;
    let done = 0;
    const images = archive.images();
    const first = images.next();
    if (!first.done) {
      columns = Object.keys(first.value[0]!);
      await load('image', archive.imageCount, columns, function* () {
        for (let batch: IteratorResult<Row[]> = first; !batch.done; batch = images.next()) {
          yield lines(batch.value, columns!);
          done += batch.value.length;
          onImages?.(done, archive.imageCount);
        }
      });
    }
  } finally {
    await query('SET SESSION unique_checks = 1, foreign_key_checks = 1');
  }
  // Every reference within the ids its parent table was given: with the parents' ids 1..n, that
  // is what the foreign keys would have checked row by row (each bound is one index dive).
  const parents: [string, string, string, number][] = [
    ['individual', 'collection_id', 'collection', archive.collections.length],
    ['study', 'individual_id', 'individual', archive.individuals.length],
    ['study', 'collection_id', 'collection', archive.collections.length],
    ['series', 'study_id', 'study', archive.studies.length],
    ['series', 'individual_id', 'individual', archive.individuals.length],
    ['series', 'collection_id', 'collection', archive.collections.length],
    ['image', 'series_id', 'series', archive.series.length],
  ];
  for (const [table, column, parent, n] of parents) {
    const [row] = await trx(table).min({ lo: column }).max({ hi: column });
    if (row && row.lo !== null && (Number(row.lo) < 1 || Number(row.hi) > n)) throw new Error(`seeding ${table}.${column}: references ${row.lo}..${row.hi} outside ${parent}'s 1..${n}`);
  }
}

/**
 * Loads the generated archive in one transaction. Ids are explicit, so children reference
 * parents without a round trip; the accession counters continue after them.
 */
export async function seedArchive(orm: MikroORM, opts: { scale: number; seed?: string; onImages?: Progress }): Promise<SeedSummary> {
  // Metadata rows have no file; their hash codes are real images' codes (seeds/poolCodes.ts).
  const archive = generateArchive(opts.scale, opts.seed, await poolCodes());
  const knex = (orm.em as EntityManager).getKnex();
  await knex.transaction(async (trx) => {
    if (knex.client.dialect !== 'mysql') await insertRows(trx, archive, 400, opts.onImages);
    else if (Number((await trx.raw('SELECT @@local_infile AS on_')).at(0)?.at(0)?.on_) !== 1) await insertRows(trx, archive, 2000, opts.onImages);
    else await loadRows(trx, archive, opts.onImages);
    for (const [kind, next] of Object.entries(archive.counters)) {
      // The archive was empty (explicit ids require it), so nothing was allocated before.
      await trx('accession_counter').where({ kind }).del();
      await trx('accession_counter').insert({ kind, next_value: next });
    }
  });
  // MariaDB keeps using the open tables' in-memory statistics (taken while they were empty) until
  // they are reopened or analysed; its plans then start from the wrong table (docs/scale.md: a
  // similarImages query took 0.45 s at 1.94 M images until ANALYZE). InnoDB samples a few pages.
  if (knex.client.dialect === 'mysql') await knex.raw('ANALYZE TABLE collection, individual, study, series, image');
  return {
    collections: archive.collections.length, individuals: archive.individuals.length,
    studies: archive.studies.length, series: archive.series.length, images: archive.imageCount,
  };
}
/** Seeds only an empty archive: `npm start` calls this on every start. */
export async function seedIfEmpty(orm: MikroORM, opts: { scale: number }): Promise<SeedSummary | null> {
  const knex = (orm.em as EntityManager).getKnex();
  const [{ n }] = await knex('collection').count({ n: '*' });
  if (Number(n) > 0) return null;
  return seedArchive(orm, opts);
}
