import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { logger } from '../log.js';
import { syncDirAsync, tempName } from './paths.js';

const log = logger.child({ module: 'storage' });

/** A blob present in a root but whose bytes do not hash to its name in either copy. */
export class BlobCorruptError extends Error {
  constructor(readonly sha256: string) {
    super(`stored file ${sha256} is corrupt in both the primary and the backup copy`);
    this.name = 'BlobCorruptError';
  }
}

/** The roots a verified read looks in (a BlobStore). */
export interface BlobRoots {
  readonly primaryRoot: string;
  readonly backupRoot: string;
  pathIn(root: string, sha256: string): string;
}

/** An open, verified copy of a blob: what is streamed comes from the very file that was hashed. */
export interface VerifiedBlob {
  readonly sha256: string;
  readonly size: number;
  /** Which copy is served (the backup only when the primary was bad and could not be repaired). */
  readonly copy: 'primary' | 'backup';
  /** The bytes `start..end` (inclusive; default all). Call at most once: the stream owns and closes the file. */
  stream(range?: { start: number; end: number }): Readable;
  /** Closes the file when no stream was taken. */
  close(): Promise<void>;
}

interface Verified { file: string; copy: 'primary' | 'backup'; dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number; at: number }

/**
 * How long a verification stands for the same file (same device, inode, size, times): a
 * client resuming a large download with Range requests gets its pieces without the whole file
 * being re-hashed for each, while a copy rewritten since is hashed again.
 */
const VERIFIED_FOR_MS = 10 * 60_000;
const VERIFIED_ENTRIES = 20_000;
const CHUNK = 1 << 20;

function identity(st: fs.Stats): Pick<Verified, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'> {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function sameFile(v: Verified, st: fs.Stats): boolean {
  return v.dev === st.dev && v.ino === st.ino && v.size === st.size && v.mtimeMs === st.mtimeMs && v.ctimeMs === st.ctimeMs;
}

/** sha256 of an open file, read in chunks (each read waits in libuv's pool, so the event loop keeps serving). */
async function hashOf(fh: fs.promises.FileHandle, size: number): Promise<string> {
  const hash = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, size)));
  for (let at = 0; ;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, at);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash.digest('hex');
}

/**
 * Reads that never hand out a byte of a blob before the blob is known good: the copy is
 * hashed whole first (so a Range request is as safe as a full download), the backup is used
 * when the primary is missing or corrupt, and the primary is repaired from it. A blob bad in
 * both copies is a BlobCorruptError, raised before anything is sent.
 */
export class VerifiedReader {
  /** Verifications that stand, by sha256 (Map order = recency). */
  private readonly verified = new Map<string, Verified>();
  /** One hashing per blob at a time, however many downloads ask for it together. */
  private readonly inFlight = new Map<string, Promise<Verified | null>>();

  constructor(private readonly roots: BlobRoots) {}

  /** The verified blob, open; null when neither root holds it. Throws BlobCorruptError when both copies are bad. */
  async open(sha256: string): Promise<VerifiedBlob | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const v = await this.verify(sha256);
      if (!v) return null;
      let fh: fs.promises.FileHandle;
      try { fh = await fs.promises.open(v.file, 'r'); } catch { this.verified.delete(sha256); continue; }
      const st = await fh.stat();
      // Replaced (a repair renamed a new copy in) between the hashing and this open: verify again.
      if (!sameFile(v, st)) { await fh.close(); this.verified.delete(sha256); continue; }
      return openBlob(sha256, v, fh);
    }
    throw new Error(`stored file ${sha256} kept changing while it was verified`);
  }

  /** Forgets every verification (tests that corrupt a copy behind the reader's back). */
  forget(): void {
    this.verified.clear();
  }

  private verify(sha256: string): Promise<Verified | null> {
    const cached = this.verified.get(sha256);
    if (cached && Date.now() - cached.at < VERIFIED_FOR_MS) {
      try {
        if (sameFile(cached, fs.statSync(cached.file))) {
          this.verified.delete(sha256); this.verified.set(sha256, cached);
          return Promise.resolve(cached);
        }
      } catch { /* gone: verify again */ }
    }
    this.verified.delete(sha256);
    let running = this.inFlight.get(sha256);
    if (!running) {
      running = this.verifyNow(sha256).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, running);
    }
    return running;
  }

  private async verifyNow(sha256: string): Promise<Verified | null> {
    const primary = this.roots.pathIn(this.roots.primaryRoot, sha256);
    const backup = this.roots.pathIn(this.roots.backupRoot, sha256);
    const p = await check(primary, sha256);
    let found = p;
    if (p.state !== 'good' && backup !== primary) {
      const b = await check(backup, sha256);
      if (b.state === 'good') {
        log.warn({ sha256 }, p.state === 'bad' ? 'stored file corrupt in the primary copy; the backup serves it' : 'stored file missing from the primary root; the backup serves it');
        found = (await repair(backup, primary, sha256)) ?? b;
      } else if (p.state === 'absent' && b.state === 'absent') {
        return null;
      } else {
        found = b.state === 'bad' ? b : p;
      }
    }
    if (found.state === 'absent') return null;
    if (found.state === 'bad') {
      log.error({ sha256 }, 'stored file corrupt in both copies');
      throw new BlobCorruptError(sha256);
    }
    const v: Verified = { file: found.file, copy: found.file === primary ? 'primary' : 'backup', ...identity(found.stat), at: Date.now() };
    this.verified.set(sha256, v);
    while (this.verified.size > VERIFIED_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
    return v;
  }
}

type Check = { state: 'absent'; file: string } | { state: 'bad'; file: string } | { state: 'good'; file: string; stat: fs.Stats };

async function check(file: string, sha256: string): Promise<Check> {
  let fh: fs.promises.FileHandle;
  try { fh = await fs.promises.open(file, 'r'); } catch { return { state: 'absent', file }; }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) return { state: 'absent', file };
    return (await hashOf(fh, stat.size)) === sha256 ? { state: 'good', file, stat } : { state: 'bad', file };
  } catch {
    // An I/O error reading the copy is as bad as wrong bytes.
    return { state: 'bad', file };
  } finally {
    await fh.close();
  }
}

/**
 * Copies the good backup over the primary (temp file, fsync, rename, as every blob write), and
 * checks the result; the primary's new state, or null when the repair failed (the backup then
 * serves, and `npm run verify-storage` reports the primary).
 */
async function repair(from: string, to: string, sha256: string): Promise<Check | null> {
  const tmp = tempName(to);
  try {
    await fs.promises.mkdir(path.dirname(to), { recursive: true });
    await fs.promises.copyFile(from, tmp);
    const fh = await fs.promises.open(tmp, 'r+');
    try { await fh.sync(); } finally { await fh.close(); }
    await fs.promises.rename(tmp, to);
    await syncDirAsync(path.dirname(to));
    const after = await check(to, sha256);
    if (after.state !== 'good') throw new Error('the repaired copy does not verify');
    log.info({ sha256 }, 'primary copy repaired from the backup');
    return after;
  } catch (err) {
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    log.error({ sha256, err }, 'could not repair the primary copy from the backup');
    return null;
  }
}

function openBlob(sha256: string, v: Verified, fh: fs.promises.FileHandle): VerifiedBlob {
  let taken = false;
  return {
    sha256, size: v.size, copy: v.copy,
    stream(range) {
      if (taken) throw new Error('a verified blob is streamed once');
      taken = true;
      // The stream closes the file when it ends, fails or is destroyed.
      return fh.createReadStream({ start: range?.start ?? 0, end: range?.end ?? Math.max(0, v.size - 1), autoClose: true, emitClose: true });
    },
    async close() {
      if (!taken) { taken = true; await fh.close(); }
    },
  };
}
