import fs from 'node:fs';
import type { VerifiedBlob } from '../storage/VerifiedReader.js';

/** Where a stored file's bytes are: the shape of src/storage/BlobStore.ts that downloads need. */
export interface BlobLocator {
  readonly primaryRoot: string;
  readonly backupRoot: string;
  pathIn(root: string, sha256: string): string;
  /** Verified reads (hashed before serving; backup used and primary repaired): src/storage/VerifiedReader.ts. */
  readonly verified: { open(sha256: string): Promise<VerifiedBlob | null> };
}

/**
 * The path of a blob, primary copy first, backup when the primary is missing; unverified, so
 * only for derived files that are checked otherwise (the thumbnail cache). Archived files are
 * read through readVerifiedBlob or `verified.open`.
 */
export async function locateBlob(store: Pick<BlobLocator, 'primaryRoot' | 'backupRoot' | 'pathIn'>, sha256: string): Promise<{ path: string; size: number } | null> {
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

/** A stored file's bytes, verified; null when no root holds it. Throws BlobCorruptError when both copies are bad. */
export async function readVerifiedBlob(store: BlobLocator, sha256: string): Promise<Buffer | null> {
  const blob = await store.verified.open(sha256);
  if (!blob) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of blob.stream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
