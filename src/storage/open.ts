import { LocalBlobStore } from './BlobStore.js';
import { blobStoreFromEnv } from './config.js';
import type { BlobStore, BlobStoreSpec } from './store.js';

/** The store a configuration names: its `blobStore`, else the environment's (src/storage/config.ts) over its data and backup directories. */
export function blobStoreSpecOf(config: { dataDir: string; backupDir: string; blobStore?: BlobStoreSpec }): BlobStoreSpec {
  return config.blobStore ?? blobStoreFromEnv(process.env, config.dataDir, config.backupDir);
}

/** The archive's blob store for a configuration, or for a spec handed to a worker thread. */
export function openBlobStore(from: { dataDir: string; backupDir: string; blobStore?: BlobStoreSpec } | BlobStoreSpec): BlobStore {
  const spec = 'kind' in from ? from : blobStoreSpecOf(from);
  if (spec.kind !== 's3') return new LocalBlobStore(spec.primaryRoot, spec.backupRoot, spec.durable);
  // The AWS SDK loads only for an S3 store: it costs ≈ 0.1 CPU-s in every process and ingest
  // worker thread that loads it, and most open a local store. A require, not an import(), keeps
  // opening a store synchronous.
  const { S3BlobStore } = require('./S3BlobStore.js') as typeof import('./S3BlobStore.js');
  return new S3BlobStore(spec);
}
