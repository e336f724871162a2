import { LocalBlobStore } from './BlobStore.js';
import { blobStoreFromEnv } from './config.js';
import { S3BlobStore } from './S3BlobStore.js';
import type { BlobStore, BlobStoreSpec } from './store.js';

/** The store a configuration names: its `blobStore`, else the environment's (src/storage/config.ts) over its data and backup directories. */
export function blobStoreSpecOf(config: { dataDir: string; backupDir: string; blobStore?: BlobStoreSpec }): BlobStoreSpec {
  return config.blobStore ?? blobStoreFromEnv(process.env, config.dataDir, config.backupDir);
}

/** The archive's blob store for a configuration, or for a spec handed to a worker thread. */
export function openBlobStore(from: { dataDir: string; backupDir: string; blobStore?: BlobStoreSpec } | BlobStoreSpec): BlobStore {
  const spec = 'kind' in from ? from : blobStoreSpecOf(from);
  return spec.kind === 's3' ? new S3BlobStore(spec) : new LocalBlobStore(spec.primaryRoot, spec.backupRoot, spec.durable);
}
