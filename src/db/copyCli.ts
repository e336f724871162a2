// `npm run db:copy -- --to mysql://user@host/obia`: copies this archive's catalogue (the database
// the environment configures: DATABASE_URL, or the embedded SQLite file in OBIA_DATA_DIR) into
// another, new database, migrating it first. The data folder (keys, stored files, thumbnails) is
// not copied: point the archive at the new database with the same OBIA_DATA_DIR (or blob store).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { copyDatabase, DatabaseCopyError } from './copy.js';
import { openDatabase } from './orm.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { to: { type: 'string' }, from: { type: 'string' } } });
  if (!values.to) throw new DatabaseCopyError('--to names the database to copy into (mysql://… or sqlite:/path/file.sqlite)');
  const config = loadConfig();
  const from = await openDatabase(values.from ? { ...config, databaseUrl: values.from } : config);
  const to = await openDatabase({ ...config, databaseUrl: values.to, databaseReplicas: [] });
  try {
    const report = await copyDatabase(from, to, ({ table, copied, total }) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${table}: ${copied}/${total} rows${copied === total ? '\n' : ''}`);
    });
    console.log(`copied ${report.rows} rows of ${report.tables} tables`);
  } finally {
    await from.close(true);
    await to.close(true);
  }
}

main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1); });
