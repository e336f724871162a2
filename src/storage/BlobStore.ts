import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DirectIo } from './directIo';
import { syncDir, syncDirAsync, tempName } from './paths';
import type { BlobCopy, BlobStore, BlobStoreSpec, StoredBlob, VerifyReport } from './store.js';
import { VerifiedReader, type VerifiedBlob } from './VerifiedReader';

export type { BlobStore, VerifyReport } from './store.js';

const SHA256 = /^[0-9a-f]{64}$/;
const SCRATCH_MAX = 64 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is in neither the primary nor the backup store`);
  }
}

/**
 * Content-addressed files (named by their sha256) kept in two roots, the backup meant for
 * another disk. A write lands in both and is re-hashed before it counts; a read that finds
 * the primary copy missing or corrupt serves the backup and repairs the primary from it.
 */
export class LocalBlobStore implements BlobStore {
  /** Durable copies bypass the page cache where the filesystem allows (see directIo.ts). */
  private readonly direct: DirectIo | null;
  /** Reads for serving: hashed whole before a byte goes out, backup used and primary repaired (see VerifiedReader.ts). */
  readonly verified: VerifiedReader = new VerifiedReader(this);

  constructor(readonly primaryRoot: string, readonly backupRoot: string, private readonly durable = true) {
    this.direct = durable ? new DirectIo() : null;
  }

  /** `$OBIA_DATA_DIR/blobs` and `OBIA_BACKUP_DIR`. */
  static fromConfig(config: { dataDir: string; backupDir: string }): LocalBlobStore {
    return new LocalBlobStore(path.join(config.dataDir, 'blobs'), config.backupDir);
  }

  /**
   * Thumbnails, in `$OBIA_DATA_DIR/cache/thumbnails`: derived files, so one root and no fsync;
   * one that is lost is rendered again from the archived image.
   */
  static thumbnailsOf(config: { dataDir: string }): LocalBlobStore {
    const root = path.join(config.dataDir, 'cache', 'thumbnails');
    return new LocalBlobStore(root, root, false);
  }

  /** What a worker thread needs to open the same store. */
  get spec(): Extract<BlobStoreSpec, { kind: 'local' }> {
    return { kind: 'local', primaryRoot: this.primaryRoot, backupRoot: this.backupRoot, durable: this.durable };
  }

  open(sha: string): Promise<VerifiedBlob | null> {
    return this.verified.open(sha);
  }

  forget(): void {
    this.verified.forget();
  }

  async close(): Promise<void> {}

  /** Collected, then stored as put() does: a blob is at most OBIA_MAX_FILE_BYTES, and put() writes both roots from one buffer. */
  async putStream(sha: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of source) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    if (sha256Hex(bytes) !== sha) throw new Error(`the bytes given for blob ${sha} hash to another sha256`);
    await this.put(bytes, sha);
  }

  async stat(sha: string): Promise<Record<BlobCopy, StoredBlob | null>> {
    const one = async (root: string): Promise<StoredBlob | null> => {
      try {
        const st = await fs.promises.stat(this.pathIn(root, sha));
        return st.isFile() ? { sha256: sha, size: st.size, modifiedMs: st.mtimeMs } : null;
      } catch { return null; }
    };
    return { primary: await one(this.primaryRoot), backup: await one(this.backupRoot) };
  }

  async delete(sha: string, copies: BlobCopy[] = ['primary', 'backup']): Promise<void> {
    for (const copy of copies) await fs.promises.rm(this.pathIn(copy === 'primary' ? this.primaryRoot : this.backupRoot, sha), { force: true });
    this.verified.forget();
  }

  async *list(copy: BlobCopy): AsyncIterable<StoredBlob> {
    const root = copy === 'primary' ? this.primaryRoot : this.backupRoot;
    for (const sha of this.shasIn(root)) {
      try {
        const st = await fs.promises.stat(this.pathIn(root, sha));
        yield { sha256: sha, size: st.size, modifiedMs: st.mtimeMs };
      } catch { /* removed meanwhile */ }
    }
  }

  /** Each root can take a file (readiness). */
  async check(): Promise<void> {
    for (const root of new Set([this.primaryRoot, this.backupRoot])) {
      const probe = path.join(root, `.ready-${process.pid}-${Date.now()}`);
      await fs.promises.mkdir(root, { recursive: true });
      await fs.promises.writeFile(probe, 'ok');
      await fs.promises.rm(probe, { force: true });
    }
  }

  pathIn(root: string, sha: string): string {
    if (!SHA256.test(sha)) throw new Error(`not a sha256: ${sha.slice(0, 80)}`);
    // One level of 256 directories, as git's loose objects: thousands of files per directory are
    // nothing to ext4, while a directory created per blob (two levels) costs more than the write.
    return path.join(root, sha.slice(0, 2), sha);
  }

  /**
   * Stores `bytes` in both roots (a no-op for a root that already holds a verified copy); returns
   * the sha256. Buffered and synchronous: for repairs and the thumbnail cache, whose writes are
   * small or rare; ingest stores archive copies with put(). A caller that hashed the bytes
   * already passes the digest; every copy is still verified against `bytes`.
   */
  putSync(bytes: Uint8Array, sha = sha256Hex(bytes)): string {
    this.writeVerified(this.primaryRoot, sha, bytes);
    if (this.backupRoot !== this.primaryRoot) this.writeVerified(this.backupRoot, sha, bytes);
    return sha;
  }

  /**
   * Stores `bytes` in both roots at once, as putSync does, but waits on the devices off the
   * caller's thread: durable copies go through direct I/O where the filesystem allows (see
   * directIo.ts), the read-back included, so an ingest worker de-identifies the next file
   * while this one is written.
   */
  async put(bytes: Uint8Array, sha = sha256Hex(bytes)): Promise<string> {
    await Promise.all([this.primaryRoot, ...(this.backupRoot !== this.primaryRoot ? [this.backupRoot] : [])].map((root) => this.writeDirect(root, sha, bytes)));
    return sha;
  }

  /** writeVerified through direct I/O; the buffered writeVerified where that is not possible. */
  private async writeDirect(root: string, sha: string, bytes: Uint8Array): Promise<void> {
    if (this.holds(root, sha, bytes)) return;
    if (!this.direct) return this.writeVerified(root, sha, bytes);
    const target = this.pathIn(root, sha);
    const dir = path.dirname(target);
    const tmp = tempName(target);
    const direct = this.direct;
    const written = await this.inDir(dir, () => direct.write(root, tmp, bytes));
    if (!written) return this.writeVerified(root, sha, bytes);
    // A metadata call of microseconds: on this thread (see directIo.ts); the flush below waits on the device.
    fs.renameSync(tmp, target);
    await syncDirAsync(dir);
    // Read back from the device: what the write left in no cache is what is compared.
    const verified = (await this.direct.holds(root, target, bytes)) ?? this.holds(root, sha, bytes);
    if (!verified) throw new Error(`blob ${sha} did not verify after writing to ${root}`);
  }

  /** Directories known to exist (256 per root): asked of the filesystem once each, not once per blob. */
  private readonly dirs = new Set<string>();

  private ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    this.dirs.add(dir);
  }

  /**
   * `create` (which makes a file in `dir`, synchronously or not) once `dir` exists; made again if
   * the directory went after this store last saw it (a root wiped or restored by hand). A mkdir
   * per blob cost the ingest workers ≈ 1.8 ms a file of waiting in bench:ingest.
   */
  private inDir<T>(dir: string, create: () => T): T {
    const again = (e: unknown): T => {
      if ((e as NodeJS.ErrnoException)?.code !== 'ENOENT') throw e;
      this.dirs.delete(dir);
      this.ensureDir(dir);
      return create();
    };
    try {
      this.ensureDir(dir);
      const made = create();
      return (made instanceof Promise ? made.catch(again) : made) as T;
    } catch (e) {
      return again(e);
    }
  }

  async has(sha: string): Promise<boolean> {
    return (await this.readVerified(this.primaryRoot, sha)) !== null || (await this.readVerified(this.backupRoot, sha)) !== null;
  }

  /** Returns the blob's bytes, verified against its name; repairs whichever copy is bad. */
  async get(sha: string): Promise<Buffer> {
    const primary = await this.readVerified(this.primaryRoot, sha);
    if (primary) return primary;
    const backup = await this.readVerified(this.backupRoot, sha);
    if (!backup) throw new BlobNotFoundError(sha);
    this.writeVerified(this.primaryRoot, sha, backup, true);
    return backup;
  }

  /** Re-hashes every blob in both roots and repairs one from the other (`npm run verify-storage`). */
  async verifyAll(onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
    const shas = new Set([...this.shasIn(this.primaryRoot), ...this.shasIn(this.backupRoot)]);
    const report: VerifyReport = { checked: 0, repairedPrimary: [], repairedBackup: [], lost: [] };
    for (const sha of shas) {
      const [p, b] = await Promise.all([this.readVerified(this.primaryRoot, sha), this.readVerified(this.backupRoot, sha)]);
      if (!p && b) { this.writeVerified(this.primaryRoot, sha, b, true); report.repairedPrimary.push(sha); }
      else if (p && !b) { this.writeVerified(this.backupRoot, sha, p, true); report.repairedBackup.push(sha); }
      else if (!p && !b) report.lost.push(sha);
      report.checked++;
      onProgress?.(report.checked, shas.size);
    }
    return report;
  }

  private shasIn(root: string): string[] {
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[])
      .map((f) => path.basename(f))
      .filter((f) => SHA256.test(f));
  }

  private async readVerified(root: string, sha: string): Promise<Buffer | null> {
    let bytes: Buffer;
    try { bytes = await fs.promises.readFile(this.pathIn(root, sha)); } catch { return null; }
    return sha256Hex(bytes) === sha ? bytes : null;
  }

  /** Read-back buffer, reused: verifying every write must not allocate a copy of every file. */
  private scratch = Buffer.alloc(0);

  /** Whether the file under `root` holds exactly `bytes` (whose digest names it). */
  private holds(root: string, sha: string, bytes: Uint8Array): boolean {
    let fd: number;
    try { fd = fs.openSync(this.pathIn(root, sha), 'r'); } catch { return false; }
    try {
      if (fs.fstatSync(fd).size !== bytes.length) return false;
      // A rare huge blob gets a buffer of its own rather than pinning its size for good.
      if (this.scratch.length < bytes.length && bytes.length <= SCRATCH_MAX) this.scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(bytes.length, 2 * this.scratch.length)));
      const into = bytes.length <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(bytes.length);
      let got = 0;
      for (let n = -1; got < bytes.length && n !== 0; got += n) n = fs.readSync(fd, into, got, bytes.length - got, got);
      return got === bytes.length && into.subarray(0, got).equals(bytes);
    } catch {
      return false;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Temp file + fsync + rename, so a crash never leaves a partial file under the blob's name;
   * then the file is read back and compared with the bytes it must hold (whose sha256 names
   * it), so a write that silently went wrong fails here.
   */
  private writeVerified(root: string, sha: string, bytes: Uint8Array, overwrite = false): void {
    const target = this.pathIn(root, sha);
    if (!overwrite && this.holds(root, sha, bytes)) return;
    const dir = path.dirname(target);
    const tmp = tempName(target);
    const fd = this.inDir(dir, () => fs.openSync(tmp, 'w', 0o640));
    try {
      for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
      if (this.durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
    if (this.durable) syncDir(dir);
    if (!this.holds(root, sha, bytes)) throw new Error(`blob ${sha} did not verify after writing to ${root}`);
  }
}
