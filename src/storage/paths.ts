import crypto from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * A temporary name beside `target`: every write (blob copies, repairs) goes to one, then is
 * renamed, so a crash never leaves a partial file under a blob's name; a crash can leave the
 * temporary file itself, which `npm run verify-storage` finds by this shape.
 */
export function tempName(target: string): string {
  return `${target}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
}

/** Names tempName() produces, and the direct-I/O probe files (directIo.ts). */
export const TEMP_FILE = /^(?:[0-9a-f]{64}\.\d+\.[0-9a-f]{12}\.tmp|\.direct-probe-\d+-[0-9a-f]{12})$/;

/** The rename is durable only once the directory entry is. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } catch { /* some filesystems refuse fsync on directories */ } finally { fs.closeSync(fd); }
}

const fsyncAsync = promisify(fs.fsync);

/** syncDir with the flush, which waits on the device, off this thread; open and close take microseconds (see directIo.ts). */
export async function syncDirAsync(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try { await fsyncAsync(fd); } catch { /* as syncDir */ } finally { fs.closeSync(fd); }
}
