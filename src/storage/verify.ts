// `npm run verify-storage`: re-hash every blob in the primary and backup roots and repair
// one from the other. Exits 1 when a blob is bad in both (nothing to repair from).
import { loadConfig } from '../config.js';
import { BlobStore } from './BlobStore.js';

async function main() {
  const store = BlobStore.fromConfig(loadConfig());
  const report = await store.verifyAll();
  console.log(`checked ${report.checked} blobs: repaired ${report.repairedPrimary.length} primary, ${report.repairedBackup.length} backup, lost ${report.lost.length}`);
  for (const sha of report.lost) console.log(`lost ${sha}`);
  process.exit(report.lost.length ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
