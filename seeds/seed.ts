import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { generateArchive, type Row } from './generator.js';
import { poolCodes } from './poolCodes.js';

export interface SeedSummary { collections: number; individuals: number; studies: number; series: number; images: number }

async function insertChunks(trx: Knex.Transaction, table: string, rows: Row[], chunk: number) {
  for (let i = 0; i < rows.length; i += chunk) await trx(table).insert(rows.slice(i, i + chunk));
}

/**
 * Loads the generated archive with multi-row INSERTs in one transaction. Ids are explicit, so
 * children reference parents without a round trip; the accession counters continue after them.
 */
export async function seedArchive(orm: MikroORM, opts: { scale: number; seed?: string; onImages?: (done: number, total: number) => void }): Promise<SeedSummary> {
  // Metadata rows have no file; their hash codes are real images' codes (seeds/poolCodes.ts).
  const archive = generateArchive(opts.scale, opts.seed, await poolCodes());
  const knex = (orm.em as EntityManager).getKnex();
  // knex writes SQLite multi-row inserts as a compound SELECT, which SQLite caps at 500 terms.
  const chunk = knex.client.dialect === 'sqlite3' ? 400 : 2000;
  await knex.transaction(async (trx) => {
    await insertChunks(trx, 'collection', archive.collections, chunk);
    await insertChunks(trx, 'individual', archive.individuals, chunk);
    await insertChunks(trx, 'study', archive.studies, chunk);
    await insertChunks(trx, 'series', archive.series, chunk);
    let done = 0;
    for (const batch of archive.images()) {
      await insertChunks(trx, 'image', batch, chunk);
      done += batch.length;
      opts.onImages?.(done, archive.imageCount);
    }
    for (const [kind, next] of Object.entries(archive.counters)) {
      // The archive was empty (explicit ids require it), so nothing was allocated before.
      await trx('accession_counter').where({ kind }).del();
      await trx('accession_counter').insert({ kind, next_value: next });
    }
  });
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
