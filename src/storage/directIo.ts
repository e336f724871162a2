import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const writeAsync = promisify(fs.write);
const readAsync = promisify(fs.read);
const ftruncateAsync = promisify(fs.ftruncate);
const fsyncAsync = promisify(fs.fsync);

// Durable blob copies are written and read back with O_DIRECT where the filesystem allows it.
// Written through the page cache, each copy cost the kernel a copy into freshly allocated
// cache pages (on this project's VMs 1–3 ms per half-megabyte, most of ingest's kernel time)
// and left megabytes of blobs nobody reads soon in memory the browse API could use. Direct
// I/O moves the bytes from one reused, aligned buffer to the device, and the read-back that
// verifies a copy comes from the device too, not from the cache the write just filled.
//
// Only the calls that wait on the device (the transfer, the flush, the read-back) go through
// libuv's thread pool; open, rename and close are metadata calls of a few microseconds, which
// are made on the calling thread: a trip through the pool costs ~90 µs of CPU (a promise, two
// thread hand-offs) against ~7 µs for the call itself, and a blob's two copies made ~28 such
// trips, about 2 ms of CPU per archived file (bench:ingest, issue 14).

const { O_DIRECT = 0, O_WRONLY, O_RDONLY, O_CREAT, O_EXCL } = fs.constants;
/** Lengths are padded to this: a multiple of every logical block size in use (512 or 4096). */
const BLOCK = 4096;
/** Larger blobs take the buffered path rather than pin a buffer of their size. */
const MAX_DIRECT = 64 * 1024 * 1024;

const pad = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

function isEinval(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'EINVAL';
}

/**
 * The first offset in `buf` from which a direct transfer of one block to or from a scratch file
 * in `root` succeeds (the device wants the memory aligned to its logical block size, and
 * JavaScript cannot see addresses); null when the filesystem refuses direct I/O.
 */
function alignedOffset(root: string, buf: Buffer, mode: 'r' | 'w'): number | null {
  // Unique: the ingest workers of one process probe the same roots at the same time.
  const file = path.join(root, `.direct-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number;
  try {
    if (mode === 'r') fs.writeFileSync(file, Buffer.alloc(BLOCK));
    fd = fs.openSync(file, (mode === 'w' ? O_WRONLY | O_CREAT : O_RDONLY) | O_DIRECT, 0o640);
  } catch {
    fs.rmSync(file, { force: true });
    return null;
  }
  try {
    for (let o = 0; o < BLOCK; o += 8) {
      try {
        if (mode === 'w') fs.writeSync(fd, buf, o, BLOCK, 0);
        else fs.readSync(fd, buf, o, BLOCK, 0);
        return o;
      } catch (e) {
        if (!isEinval(e)) return null;
      }
    }
    return null;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/** A reused buffer and, per root, the offset in it at which the device accepts direct transfers. */
class AlignedBuffer {
  buf = Buffer.alloc(0);
  private readonly offsets = new Map<string, number | null>();

  /** The buffer's view of `size` bytes (padded) at an offset aligned for `root`; null if none is. */
  view(root: string, size: number, align: (buf: Buffer) => number | null): Buffer | null {
    if (this.buf.length < pad(size) + BLOCK) {
      // Memory from allocUnsafeSlow is never moved, so an offset found once stays aligned.
      this.buf = Buffer.allocUnsafeSlow(Math.max(pad(size), 2 * this.buf.length) + BLOCK);
      this.offsets.clear();
    }
    if (!this.offsets.has(root)) this.offsets.set(root, align(this.buf));
    const o = this.offsets.get(root);
    return o == null ? null : this.buf.subarray(o, o + pad(size));
  }
}

/** Aligned buffers kept for reuse: one per transfer in flight. */
const POOL_MAX = 16;

/**
 * Direct writes and read-backs for the roots of one blob store, asynchronous (libuv's thread
 * pool waits on the device, not the caller's thread); a root whose filesystem refuses O_DIRECT
 * (tmpfs) is remembered and left to the caller's buffered path.
 */
export class DirectIo {
  private readonly pool: AlignedBuffer[] = [];
  private readonly refused = new Set<string>();

  /** A view of `size` bytes in an aligned buffer of the pool, given back once `use` settles. */
  private async withBuffer<T>(root: string, size: number, mode: 'r' | 'w', use: (view: Buffer) => Promise<T>): Promise<T | null> {
    const buf = this.pool.pop() ?? new AlignedBuffer();
    try {
      const view = buf.view(root, size, (b) => alignedOffset(root, b, mode));
      return view ? await use(view) : null;
    } finally {
      if (this.pool.length < POOL_MAX) this.pool.push(buf);
    }
  }

  private usable(root: string, size: number): boolean {
    return O_DIRECT !== 0 && !this.refused.has(root) && size <= MAX_DIRECT;
  }

  /**
   * Writes `bytes` to `tmp` (a new file in `root`), truncated to their length and fsynced.
   * False, with nothing left behind, when direct I/O is not possible there.
   */
  async write(root: string, tmp: string, bytes: Uint8Array): Promise<boolean> {
    if (!this.usable(root, bytes.length)) return false;
    const done = await this.withBuffer(root, bytes.length, 'w', async (view) => {
      view.set(bytes, 0);
      let fd: number;
      try {
        fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0o640);
      } catch (e) {
        if (isEinval(e)) return false;
        throw e;
      }
      try {
        for (let at = 0; at < view.length;) at += (await writeAsync(fd, view, at, view.length - at, at)).bytesWritten;
        // Off this thread: cutting a padded block may read it back from the device.
        await ftruncateAsync(fd, bytes.length);
        await fsyncAsync(fd);
      } catch (e) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        if (isEinval(e)) return false;
        throw e;
      }
      fs.closeSync(fd);
      return true;
    });
    return done === true || (this.refused.add(root), false);
  }

  /** Whether `file` on the device holds exactly `bytes`; null when it cannot be read directly. */
  async holds(root: string, file: string, bytes: Uint8Array): Promise<boolean | null> {
    if (!this.usable(root, bytes.length)) return null;
    // One byte more than expected is asked for, so a longer file cannot pass for the blob.
    return this.withBuffer(root, bytes.length + 1, 'r', async (view) => {
      let fd: number;
      try { fd = fs.openSync(file, O_RDONLY | O_DIRECT); } catch (e) { return isEinval(e) ? null : false; }
      try {
        // Reading stops at the end of the file (a short read, after which the position is no
        // longer aligned).
        let got = 0;
        for (;;) {
          const { bytesRead } = await readAsync(fd, view, got, view.length - got, got);
          got += bytesRead;
          if (bytesRead === 0 || bytesRead % BLOCK !== 0 || got >= view.length) break;
        }
        return got === bytes.length && view.subarray(0, got).equals(bytes);
      } catch (e) {
        return isEinval(e) ? null : false;
      } finally {
        fs.closeSync(fd);
      }
    });
  }
}
