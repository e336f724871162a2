/**
 * `npm run seed -- [--scale 0.02] [--reset]`: loads the generated archive into the database
 * that DATABASE_URL / OBIA_DATA_DIR name. `--scale 1` is the OBIA paper's full archive.
 */
import 'reflect-metadata';
import { SingleBar, Presets } from 'cli-progress';
import type { EntityManager } from '@mikro-orm/knex';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/orm.js';
import { seedArchive } from './seed.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const scale = Number(arg('scale') ?? 0.02);
  if (!(scale > 0)) throw new Error('--scale must be a positive number');
  const orm = await openDatabase(loadConfig());
  const knex = (orm.em as EntityManager).getKnex();
  const [{ n }] = await knex('collection').count({ n: '*' });
  if (Number(n) > 0) {
    if (!process.argv.includes('--reset')) throw new Error('the archive is not empty; pass --reset to replace it with seed data');
    // Children first: foreign keys point upwards.
    for (const table of ['image', 'series', 'study', 'individual', 'collection', 'accession_counter']) await knex(table).del();
  }
  const bar = new SingleBar({ format: 'seeding images [{bar}] {percentage}% | {value}/{total} | ETA {eta}s', etaBuffer: 50 }, Presets.shades_classic);
  const started = Date.now();
  let barStarted = false;
  const summary = await seedArchive(orm, {
    scale,
    onImages: (done, total) => {
      if (!barStarted) { bar.start(total, 0); barStarted = true; }
      bar.update(done);
    },
  });
  if (barStarted) bar.stop();
  console.log(`seeded scale ${scale}: ${summary.collections} collections, ${summary.individuals} individuals, ${summary.studies} studies, ${summary.series} series, ${summary.images} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await orm.close(true);
}

main().catch((err) => { console.error(err.message ?? err); process.exit(1); });
