// `npm run verify-storage [-- --remove] [--min-age <minutes>]`: re-hash every blob in the
// primary and backup copies (local roots or S3 buckets, src/storage/config.ts) and repair one
// from the other (a missing or corrupt backup copy included), then look for what no row accounts
// for (orphan blobs, received bytes no file row names, stale temporary files, unfinished S3
// uploads) and report it, or remove it with --remove. Exits 1 when a blob is bad in both.
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { LocalBlobStore } from './BlobStore.js';
import { openBlobStore } from './open.js';
import { S3BlobStore } from './S3BlobStore.js';
import { findStrays } from './strays.js';

async function main() {
  const { values } = parseArgs({ options: { remove: { type: 'boolean' }, 'min-age': { type: 'string' } } });
  const minutes = values['min-age'] === undefined ? 60 : Number(values['min-age']);
  if (!Number.isFinite(minutes) || minutes < 0) throw new Error('--min-age takes a number of minutes (default 60)');
  const config = loadConfig();
  const store = openBlobStore(config);
  const report = await store.verifyAll();
  console.log(`checked ${report.checked} blobs: repaired ${report.repairedPrimary.length} primary, ${report.repairedBackup.length} backup, lost ${report.lost.length}`);
  for (const sha of report.repairedPrimary) console.log(`repaired primary ${sha}`);
  for (const sha of report.repairedBackup) console.log(`repaired backup ${sha}`);
  for (const sha of report.lost) console.log(`lost ${sha}`);
  const orm = await openDatabase(config);
  try {
    const strays = await findStrays((orm.em as EntityManager).getKnex(), {
      blobRoots: store.spec.kind === 'local' ? [store.spec.primaryRoot, store.spec.backupRoot] : [],
      ...(store instanceof S3BlobStore ? { objectStore: store } : {}),
      thumbnailRoot: LocalBlobStore.thumbnailsOf(config).primaryRoot,
      stagingRoot: config.stagingDir, tmpDir: path.join(config.dataDir, 'tmp'),
    }, { minAgeMs: minutes * 60_000, remove: !!values.remove });
    const verb = strays.removed ? 'removed' : 'found';
    console.log(`${verb} ${strays.orphanBlobs.length} orphan blobs, ${strays.orphanStaged.length} orphan received files, ${strays.staleTemps.length} stale temporary files (${strays.bytes} bytes; untouched for ${minutes} min or more)`);
    for (const sha of strays.orphanBlobs) console.log(`orphan blob ${sha}`);
    for (const f of strays.orphanStaged) console.log(`orphan received file ${f}`);
    for (const f of strays.staleTemps) console.log(`stale temporary file ${f}`);
    if (!strays.removed && strays.bytes > 0) console.log('run again with --remove to delete them');
  } finally {
    await orm.close(true);
    await store.close();
  }
  process.exit(report.lost.length ? 1 : 0);
}

main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1); });
