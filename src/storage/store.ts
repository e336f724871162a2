import type { Readable } from 'node:stream';
import type { VerifiedBlob } from './VerifiedReader.js';

export type { VerifiedBlob } from './VerifiedReader.js';

/** Which copy of a blob: every store keeps two (issue 18: a backup on another disk, bucket or endpoint). */
export type BlobCopy = 'primary' | 'backup';

/** One object as a listing sees it. */
export interface StoredBlob {
  sha256: string;
  size: number;
  /** Last write, ms since the epoch: verify-storage leaves what is younger than --min-age alone. */
  modifiedMs: number;
}

export interface VerifyReport {
  checked: number;
  repairedPrimary: string[];
  repairedBackup: string[];
  /** Corrupt or missing in both copies: nothing left to repair from. */
  lost: string[];
}

/** Where an S3 copy lives (one bucket, under one key prefix, at one endpoint). */
export interface S3Location {
  /** null: AWS itself (the SDK's default endpoint for the region). */
  endpoint: string | null;
  region: string;
  bucket: string;
  /** Prepended to every key (`blobs/` → `blobs/ab/ab…`). */
  prefix: string;
  /** Path-style addressing (`endpoint/bucket/key`), as Ceph RGW and most non-AWS gateways want. */
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (AWS_ACCESS_KEY_ID …, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Everything needed to open the same store again, e.g. in an ingest worker thread: plain
 * data, so it crosses a worker boundary as it is.
 */
export type BlobStoreSpec =
  | { kind: 'local'; primaryRoot: string; backupRoot: string; durable: boolean }
  | { kind: 's3'; primary: S3Location; backup: S3Location; partBytes: number };

/**
 * The archive's content-addressed blob storage (objects named by their sha256), whatever holds
 * it: two local roots (LocalBlobStore) or two S3 locations (S3BlobStore). Every write is checked
 * as it lands (read back locally, Content-MD5 on S3) and lands in both copies; every read is
 * verified whole before its first byte goes out, serves the backup when the primary is bad and
 * repairs the primary from it.
 */
export interface BlobStore {
  readonly spec: BlobStoreSpec;
  /** Stores `bytes` in both copies (a no-op where a copy already holds them); returns the sha256. */
  put(bytes: Uint8Array, sha256?: string): Promise<string>;
  /**
   * Stores a stream whose sha256 the caller knows, without holding it whole where the backend
   * allows; the stream's bytes are hashed on the way and nothing is kept when they do not match.
   */
  putStream(sha256: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void>;
  /** The blob's bytes, verified (repairing whichever copy is bad); BlobNotFoundError when neither copy holds it. */
  get(sha256: string): Promise<Buffer>;
  /** A verified blob ready to stream (optionally a Range of it); null when neither copy holds it. Throws BlobCorruptError when both are bad. */
  open(sha256: string): Promise<VerifiedBlob | null>;
  /** Size and age of each copy, unverified (null where a copy is absent). */
  stat(sha256: string): Promise<Record<BlobCopy, StoredBlob | null>>;
  /** Removes a blob's copies (orphans that verify-storage finds; a repair's bad copy). */
  delete(sha256: string, copies?: BlobCopy[]): Promise<void>;
  /** Every blob one copy holds, in no particular order. */
  list(copy: BlobCopy): AsyncIterable<StoredBlob>;
  /** Re-hashes every blob in both copies and repairs one from the other (`npm run verify-storage`). */
  verifyAll(onProgress?: (done: number, total: number) => void): Promise<VerifyReport>;
  /** Throws when the store cannot be written (readiness checks). */
  check(): Promise<void>;
  /** Forgets cached verifications (tests that corrupt a copy behind the store's back). */
  forget(): void;
  /** Releases connections; the store is not used after. */
  close(): Promise<void>;
}

/** Collects a stream (a verified blob's bytes). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
