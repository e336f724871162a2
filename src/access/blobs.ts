import type { BlobStore } from '../storage/store.js';
import { readAll } from '../storage/store.js';

/** Where a stored file's bytes are: the archive's blob store (src/storage/store.ts), local or S3. */
export type BlobLocator = Pick<BlobStore, 'open' | 'stat'>;

/** A stored file's bytes, verified; null when no copy holds it. Throws BlobCorruptError when both copies are bad. */
export async function readVerifiedBlob(store: BlobLocator, sha256: string): Promise<Buffer | null> {
  const blob = await store.open(sha256);
  return blob ? readAll(blob.stream()) : null;
}

/** Whether either copy of a stored file exists (unverified: a listing's "stored" flag, not a read). */
export async function isHeld(store: Pick<BlobStore, 'stat'>, sha256: string): Promise<boolean> {
  try {
    const { primary, backup } = await store.stat(sha256);
    return !!(primary ?? backup);
  } catch {
    return false;
  }
}
