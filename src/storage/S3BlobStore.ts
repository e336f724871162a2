import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import crypto from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { logger } from '../log.js';
import type { BlobCopy, BlobStore, BlobStoreSpec, S3Location, StoredBlob, VerifyReport } from './store.js';
import { readAll } from './store.js';
import { BlobCorruptError, type VerifiedBlob } from './VerifiedReader.js';
import { BlobNotFoundError, sha256Hex } from './BlobStore.js';

const log = logger.child({ module: 'storage', backend: 's3' });
const SHA256 = /^[0-9a-f]{64}$/;
/** S3's (and RGW's rgw_multipart_min_part_size) smallest part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** As VerifiedReader: a verification stands this long for the same object (same ETag), so resumed Range requests do not re-hash. */
const VERIFIED_FOR_MS = 10 * 60_000;
const VERIFIED_ENTRIES = 20_000;

type S3Spec = Extract<BlobStoreSpec, { kind: 's3' }>;

/** One copy: a client and where its objects are. */
class Side {
  readonly client: S3Client;
  constructor(readonly copy: BlobCopy, readonly loc: S3Location) {
    this.client = new S3Client({
      region: loc.region,
      forcePathStyle: loc.forcePathStyle,
      ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
      ...(loc.credentials ? { credentials: loc.credentials } : {}),
      // Integrity is ours: Content-MD5 on every PUT and part (which RGW checks; it ignores a wrong
      // x-amz-checksum-sha256), the sha256 re-hashed on every read. The SDK's default CRC32
      // trailers (aws-chunked) are more than Ceph 16's RGW understands.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  key(sha: string): string {
    if (!SHA256.test(sha)) throw new Error(`not a sha256: ${sha.slice(0, 80)}`);
    // The same 256-way fan-out as the local roots: listings of one shard stay short, and keys spread over RGW's index shards.
    return `${this.loc.prefix}${sha.slice(0, 2)}/${sha}`;
  }

  shaOf(key: string): string | null {
    const m = /^[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key.slice(this.loc.prefix.length));
    return key.startsWith(this.loc.prefix) && m ? m[1]! : null;
  }

  get label(): string {
    return `${this.loc.endpoint ?? 'aws'}/${this.loc.bucket}/${this.loc.prefix}`;
  }
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isAbsent(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(err) === 404;
}

const md5 = (bytes: Uint8Array) => crypto.createHash('md5').update(bytes);

/** What one copy turned out to hold when hashed. `error`: it could not be read (network, 5xx), which says nothing about its bytes. */
type Check = { state: 'absent' } | { state: 'bad' } | { state: 'error'; err: unknown } | { state: 'good'; etag: string; size: number };

interface Verified { copy: BlobCopy; etag: string; size: number; at: number }

/**
 * Blobs in S3 (or an S3 gateway such as Ceph RGW): a primary and a backup location (two
 * buckets, or two endpoints), keys `<prefix><sha[0:2]>/<sha>`. Writes carry Content-MD5 (each
 * part of a multipart upload its own), so the gateway refuses bytes that changed on the way;
 * reads are hashed whole before the first byte is served, the backup serves a corrupt or missing
 * primary and repairs it, and the bytes served then come from the very object version that was
 * hashed (If-Match on its ETag), ranges included, streamed from S3.
 */
export class S3BlobStore implements BlobStore {
  private readonly sides: Record<BlobCopy, Side>;
  private readonly verified = new Map<string, Verified>();
  private readonly inFlight = new Map<string, Promise<Verified | null>>();

  constructor(readonly spec: S3Spec) {
    if (spec.partBytes < MIN_PART_BYTES) throw new Error(`S3 parts must be at least ${MIN_PART_BYTES} bytes`);
    const { primary, backup } = spec;
    if (primary.bucket === backup.bucket && primary.prefix === backup.prefix && primary.endpoint === backup.endpoint) {
      throw new Error('the S3 backup must be another bucket, prefix or endpoint than the primary');
    }
    this.sides = { primary: new Side('primary', primary), backup: new Side('backup', backup) };
  }

  /** Creates either bucket where it does not exist yet (first start of a deployment, tests). */
  async ensureBuckets(): Promise<void> {
    for (const side of Object.values(this.sides)) {
      try {
        await side.client.send(new HeadBucketCommand({ Bucket: side.loc.bucket }));
      } catch (err) {
        if (!isAbsent(err)) throw err;
        await side.client.send(new CreateBucketCommand({ Bucket: side.loc.bucket }));
      }
    }
  }

  async check(): Promise<void> {
    await Promise.all(Object.values(this.sides).map((s) => s.client.send(new HeadBucketCommand({ Bucket: s.loc.bucket }))));
  }

  async close(): Promise<void> {
    for (const side of Object.values(this.sides)) side.client.destroy();
  }

  forget(): void {
    this.verified.clear();
  }

  // ---- writes

  async put(bytes: Uint8Array, sha = sha256Hex(bytes)): Promise<string> {
    const etag = this.etagOf(bytes);
    await Promise.all(Object.values(this.sides).map(async (side) => {
      if (await this.holds(side, sha, bytes.length, etag)) return;
      await this.upload(side, sha, [bytes], true);
    }));
    return sha;
  }

  async putStream(sha: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    // Primary first, checked against the sha256 on the way; the backup is then copied from it, verified the same way.
    await this.upload(this.sides.primary, sha, source, false);
    await this.copyBetween(sha, this.sides.primary, this.sides.backup);
  }

  /** The ETag S3 gives what upload() writes: the MD5, or for multipart the MD5 of the parts' MD5s and their count. */
  private etagOf(bytes: Uint8Array): string {
    const part = this.spec.partBytes;
    if (bytes.length <= part) return md5(bytes).digest('hex');
    const all = crypto.createHash('md5');
    let n = 0;
    for (let at = 0; at < bytes.length; at += part, n++) all.update(md5(bytes.subarray(at, at + part)).digest());
    return `${all.digest('hex')}-${n}`;
  }

  /** Whether a copy already holds these bytes: same size and the ETag their MD5s give (dedup without a second upload). */
  private async holds(side: Side, sha: string, size: number, etag: string): Promise<boolean> {
    try {
      const head = await side.client.send(new HeadObjectCommand({ Bucket: side.loc.bucket, Key: side.key(sha) }));
      return head.ContentLength === size && head.ETag?.replace(/"/g, '') === etag;
    } catch (err) {
      if (isAbsent(err)) return false;
      throw err;
    }
  }

  /**
   * Writes `source` under the blob's key: one PUT when it fits in a part, else a multipart
   * upload, every request with its Content-MD5. Unless `trusted`, the bytes are hashed on the
   * way and a stream that does not hash to `sha` is abandoned (the multipart upload aborted)
   * before anything is stored under the name. Returns the new object's ETag.
   */
  private async upload(side: Side, sha: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, trusted: boolean): Promise<string> {
    const Bucket = side.loc.bucket;
    const Key = side.key(sha);
    const part = this.spec.partBytes;
    const hash = trusted ? null : crypto.createHash('sha256');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const sendPart = async (body: Buffer) => {
      uploadId ??= (await side.client.send(new CreateMultipartUploadCommand({ Bucket, Key, Metadata: { sha256: sha } }))).UploadId!;
      const PartNumber = parts.length + 1;
      const res = await side.client.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: body, ContentMD5: md5(body).digest('base64') }));
      parts.push({ ETag: res.ETag!, PartNumber });
    };
    try {
      for await (const chunk of source) {
        hash?.update(chunk);
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        pendingBytes += chunk.byteLength;
        while (pendingBytes > part) {
          const all = Buffer.concat(pending, pendingBytes);
          await sendPart(all.subarray(0, part));
          pending = [all.subarray(part)];
          pendingBytes -= part;
        }
      }
      if (hash && hash.digest('hex') !== sha) throw new Error(`the bytes given for blob ${sha} hash to another sha256; nothing was stored`);
      const rest = Buffer.concat(pending, pendingBytes);
      if (uploadId === undefined) {
        const res = await side.client.send(new PutObjectCommand({ Bucket, Key, Body: rest, ContentLength: rest.length, ContentMD5: md5(rest).digest('base64'), Metadata: { sha256: sha } }));
        return res.ETag!.replace(/"/g, '');
      }
      if (pendingBytes > 0 || parts.length === 0) await sendPart(rest);
      const res = await side.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      return res.ETag!.replace(/"/g, '');
    } catch (err) {
      if (uploadId !== undefined) {
        await side.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch((e) => log.warn({ err: e, key: Key }, 'could not abort a failed multipart upload; verify-storage removes it'));
      }
      throw err;
    }
  }

  /** Streams a copy from one side to the other, re-hashed on the way (a bad source is refused, never copied). Returns the new ETag. */
  private async copyBetween(sha: string, from: Side, to: Side): Promise<string> {
    const res = await from.client.send(new GetObjectCommand({ Bucket: from.loc.bucket, Key: from.key(sha) }));
    return this.upload(to, sha, res.Body as Readable, false);
  }

  // ---- reads

  async get(sha: string): Promise<Buffer> {
    const blob = await this.open(sha);
    if (!blob) throw new BlobNotFoundError(sha);
    return readAll(blob.stream());
  }

  async open(sha: string): Promise<VerifiedBlob | null> {
    const v = await this.verify(sha);
    if (!v) return null;
    const side = this.sides[v.copy];
    let taken = false;
    return {
      sha256: sha, size: v.size, copy: v.copy,
      stream: (range) => {
        if (taken) throw new Error('a verified blob is streamed once');
        taken = true;
        const out = new PassThrough();
        const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
        // If-Match: the object version that was hashed, or nothing (412) should it have been replaced since.
        side.client.send(new GetObjectCommand({ Bucket: side.loc.bucket, Key: side.key(sha), IfMatch: `"${v.etag}"`, Range }))
          .then((res) => pipeline(res.Body as Readable, out))
          .catch((err) => {
            if (status(err) === 412) this.verified.delete(sha);
            out.destroy(err instanceof Error ? err : new Error(String(err)));
          });
        return out;
      },
      close: async () => { taken = true; },
    };
  }

  private verify(sha: string): Promise<Verified | null> {
    const cached = this.verified.get(sha);
    if (cached && Date.now() - cached.at < VERIFIED_FOR_MS) {
      this.verified.delete(sha); this.verified.set(sha, cached);
      return Promise.resolve(cached);
    }
    this.verified.delete(sha);
    let running = this.inFlight.get(sha);
    if (!running) {
      running = this.verifyNow(sha).finally(() => this.inFlight.delete(sha));
      this.inFlight.set(sha, running);
    }
    return running;
  }

  private async verifyNow(sha: string): Promise<Verified | null> {
    const p = await this.hashed(this.sides.primary, sha);
    let found: Verified | null = p.state === 'good' ? { copy: 'primary', etag: p.etag, size: p.size, at: Date.now() } : null;
    if (!found) {
      const b = await this.hashed(this.sides.backup, sha);
      if (b.state === 'good') {
        log.warn({ sha256: sha, primary: p.state }, 'stored object bad or missing in the primary copy; the backup serves it');
        found = { copy: 'backup', etag: b.etag, size: b.size, at: Date.now() };
        try {
          const etag = await this.copyBetween(sha, this.sides.backup, this.sides.primary);
          log.info({ sha256: sha }, 'primary copy repaired from the backup');
          found = { copy: 'primary', etag, size: b.size, at: Date.now() };
        } catch (err) {
          log.error({ sha256: sha, err }, 'could not repair the primary copy from the backup');
        }
      } else if (p.state === 'absent' && b.state === 'absent') {
        return null;
      } else if (p.state === 'error' || b.state === 'error') {
        // Unreadable is not corrupt: the caller sees the transport's failure (a 5xx), not STORAGE_CORRUPT.
        throw (p.state === 'error' ? p : (b as { err: unknown })).err;
      } else {
        log.error({ sha256: sha }, 'stored object corrupt in both copies');
        throw new BlobCorruptError(sha);
      }
    }
    this.verified.set(sha, found);
    while (this.verified.size > VERIFIED_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
    return found;
  }

  /** GETs a copy whole and hashes it as it arrives. */
  private async hashed(side: Side, sha: string): Promise<Check> {
    try {
      const res = await side.client.send(new GetObjectCommand({ Bucket: side.loc.bucket, Key: side.key(sha) }));
      const hash = crypto.createHash('sha256');
      let size = 0;
      for await (const chunk of res.Body as Readable) { hash.update(chunk as Buffer); size += (chunk as Buffer).length; }
      return hash.digest('hex') === sha ? { state: 'good', etag: res.ETag!.replace(/"/g, ''), size } : { state: 'bad' };
    } catch (err) {
      return isAbsent(err) ? { state: 'absent' } : { state: 'error', err };
    }
  }

  // ---- listing and maintenance

  async stat(sha: string): Promise<Record<BlobCopy, StoredBlob | null>> {
    const one = async (side: Side): Promise<StoredBlob | null> => {
      try {
        const head = await side.client.send(new HeadObjectCommand({ Bucket: side.loc.bucket, Key: side.key(sha) }));
        return { sha256: sha, size: head.ContentLength ?? 0, modifiedMs: head.LastModified?.getTime() ?? 0 };
      } catch (err) {
        if (isAbsent(err)) return null;
        throw err;
      }
    };
    const [primary, backup] = await Promise.all([one(this.sides.primary), one(this.sides.backup)]);
    return { primary, backup };
  }

  async delete(sha: string, copies: BlobCopy[] = ['primary', 'backup']): Promise<void> {
    for (const copy of copies) {
      const side = this.sides[copy];
      await side.client.send(new DeleteObjectCommand({ Bucket: side.loc.bucket, Key: side.key(sha) }));
    }
    this.verified.delete(sha);
  }

  async *list(copy: BlobCopy): AsyncIterable<StoredBlob> {
    const side = this.sides[copy];
    let ContinuationToken: string | undefined;
    do {
      const page = await side.client.send(new ListObjectsV2Command({ Bucket: side.loc.bucket, Prefix: side.loc.prefix, ContinuationToken }));
      for (const o of page.Contents ?? []) {
        const sha = o.Key ? side.shaOf(o.Key) : null;
        if (sha) yield { sha256: sha, size: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /**
   * Multipart uploads begun before `cutoffMs` and never completed nor aborted (a process killed
   * mid-upload): S3's counterpart of a stale temporary file. Aborted when `remove`.
   */
  async staleUploads(cutoffMs: number, remove: boolean): Promise<string[]> {
    const found: string[] = [];
    for (const side of Object.values(this.sides)) {
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        const page = await side.client.send(new ListMultipartUploadsCommand({ Bucket: side.loc.bucket, Prefix: side.loc.prefix, KeyMarker, UploadIdMarker }));
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) > cutoffMs) continue;
          found.push(`${side.label}${u.Key.slice(side.loc.prefix.length)} (upload ${u.UploadId})`);
          if (remove) await side.client.send(new AbortMultipartUploadCommand({ Bucket: side.loc.bucket, Key: u.Key, UploadId: u.UploadId }));
        }
        [KeyMarker, UploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
      } while (KeyMarker);
    }
    return found;
  }

  async verifyAll(onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
    const shas = new Set<string>();
    for (const copy of ['primary', 'backup'] as const) for await (const b of this.list(copy)) shas.add(b.sha256);
    const report: VerifyReport = { checked: 0, repairedPrimary: [], repairedBackup: [], lost: [] };
    for (const sha of shas) {
      const [p, b] = await Promise.all([this.hashed(this.sides.primary, sha), this.hashed(this.sides.backup, sha)]);
      if (p.state === 'error' || b.state === 'error') throw (p.state === 'error' ? p : (b as { err: unknown })).err;
      if (p.state !== 'good' && b.state === 'good') { await this.copyBetween(sha, this.sides.backup, this.sides.primary); report.repairedPrimary.push(sha); }
      else if (p.state === 'good' && b.state !== 'good') { await this.copyBetween(sha, this.sides.primary, this.sides.backup); report.repairedBackup.push(sha); }
      else if (p.state !== 'good' && b.state !== 'good') report.lost.push(sha);
      this.verified.delete(sha);
      report.checked++;
      onProgress?.(report.checked, shas.size);
    }
    return report;
  }
}
