import fs from 'node:fs';

/** Where a stored file's bytes are: the shape of src/storage/BlobStore.ts that downloads need. */
export interface BlobLocator {
  readonly primaryRoot: string;
  readonly backupRoot: string;
  pathIn(root: string, sha256: string): string;
}

/**
 * The path of a blob to stream, primary copy first, backup when the primary is missing. Streams
 * cannot be re-hashed before they are sent; callers hash while streaming and cut the response
 * short on a mismatch, and `npm run verify-storage` repairs the copy.
 */
export async function locateBlob(store: BlobLocator, sha256: string): Promise<{ path: string; size: number } | null> {
  for (const root of [store.primaryRoot, store.backupRoot]) {
    let file: string;
    try { file = store.pathIn(root, sha256); } catch { return null; }
    try {
      const stat = await fs.promises.stat(file);
      if (stat.isFile()) return { path: file, size: stat.size };
    } catch { /* try the next root */ }
  }
  return null;
}
