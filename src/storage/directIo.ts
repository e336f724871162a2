import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// Durable blob copies are written and read back with O_DIRECT where the filesystem allows it.
// Written through the page cache, each copy cost the kernel a copy into freshly allocated
// cache pages (on this project's VMs 1–3 ms per half-megabyte, most of ingest's kernel time)
// and left megabytes of blobs nobody reads soon in memory the browse API could use. Direct
// I/O moves the bytes from one reused, aligned buffer to the device, and the read-back that
// verifies a copy comes from the device too, not from the cache the write just filled.

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

/** Direct writes and read-backs for the roots of one blob store; a root whose filesystem refuses O_DIRECT (tmpfs) is remembered and left to the caller's buffered path. */
export class DirectIo {
  private readonly out = new AlignedBuffer();
  private readonly back = new AlignedBuffer();
  private readonly refused = new Set<string>();

  /**
   * Writes `bytes` to `tmp` (a new file in `root`), truncated to their length and fsynced.
   * False, with nothing left behind, when direct I/O is not possible there.
   */
  write(root: string, tmp: string, bytes: Uint8Array): boolean {
    if (!O_DIRECT || this.refused.has(root) || bytes.length > MAX_DIRECT) return false;
    const view = this.out.view(root, bytes.length, (buf) => alignedOffset(root, buf, 'w'));
    if (!view) return this.refuse(root);
    view.set(bytes, 0);
    let fd: number;
    try {
      fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0o640);
    } catch (e) {
      if (isEinval(e)) return this.refuse(root);
      throw e;
    }
    try {
      for (let at = 0; at < view.length;) at += fs.writeSync(fd, view, at, view.length - at, at);
      fs.ftruncateSync(fd, bytes.length);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      if (isEinval(e)) return this.refuse(root);
      throw e;
    }
    fs.closeSync(fd);
    return true;
  }

  /** Whether `file` on the device holds exactly `bytes`; null when it cannot be read directly. */
  holds(root: string, file: string, bytes: Uint8Array): boolean | null {
    if (!O_DIRECT || this.refused.has(root) || bytes.length > MAX_DIRECT) return null;
    const view = this.back.view(root, bytes.length, (buf) => alignedOffset(root, buf, 'r'));
    if (!view) return null;
    let fd: number;
    try { fd = fs.openSync(file, O_RDONLY | O_DIRECT); } catch (e) { return isEinval(e) ? null : false; }
    try {
      // Reading the padded length stops at the end of the file (a short read, after which the
      // position is no longer aligned); a longer file shows as more bytes.
      let got = 0;
      for (;;) {
        const n = fs.readSync(fd, view, got, view.length - got, got);
        got += n;
        if (n === 0 || n % BLOCK !== 0 || got >= view.length) break;
      }
      return got === bytes.length && view.subarray(0, got).equals(bytes);
    } catch (e) {
      return isEinval(e) ? null : false;
    } finally {
      fs.closeSync(fd);
    }
  }

  private refuse(root: string): false {
    this.refused.add(root);
    return false;
  }
}
