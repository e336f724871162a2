import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is in neither the primary nor the backup store`);
  }
}

export interface VerifyReport {
  checked: number;
  repairedPrimary: string[];
  repairedBackup: string[];
  /** Corrupt or missing in both roots: nothing left to repair from. */
  lost: string[];
}

/**
 * Content-addressed files (named by their sha256) kept in two roots, the backup meant for
 * another disk. A write lands in both and is re-hashed before it counts; a read that finds
 * the primary copy missing or corrupt serves the backup and repairs the primary from it.
 */
export class BlobStore {
  constructor(readonly primaryRoot: string, readonly backupRoot: string, private readonly durable = true) {}

  /** `$OBIA_DATA_DIR/blobs` and `OBIA_BACKUP_DIR`. */
  static fromConfig(config: { dataDir: string; backupDir: string }): BlobStore {
    return new BlobStore(path.join(config.dataDir, 'blobs'), config.backupDir);
  }

  pathIn(root: string, sha: string): string {
    if (!SHA256.test(sha)) throw new Error(`not a sha256: ${sha.slice(0, 80)}`);
    return path.join(root, sha.slice(0, 2), sha.slice(2, 4), sha);
  }

  /** Stores `bytes` in both roots (a no-op for a root that already holds a verified copy); returns the sha256. */
  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    await Promise.all([this.writeVerified(this.primaryRoot, sha, bytes), this.writeVerified(this.backupRoot, sha, bytes)]);
    return sha;
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
    await this.writeVerified(this.primaryRoot, sha, backup, true);
    return backup;
  }

  /** Re-hashes every blob in both roots and repairs one from the other (`npm run verify-storage`). */
  async verifyAll(onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
    const shas = new Set([...this.list(this.primaryRoot), ...this.list(this.backupRoot)]);
    const report: VerifyReport = { checked: 0, repairedPrimary: [], repairedBackup: [], lost: [] };
    for (const sha of shas) {
      const [p, b] = await Promise.all([this.readVerified(this.primaryRoot, sha), this.readVerified(this.backupRoot, sha)]);
      if (!p && b) { await this.writeVerified(this.primaryRoot, sha, b, true); report.repairedPrimary.push(sha); }
      else if (p && !b) { await this.writeVerified(this.backupRoot, sha, p, true); report.repairedBackup.push(sha); }
      else if (!p && !b) report.lost.push(sha);
      report.checked++;
      onProgress?.(report.checked, shas.size);
    }
    return report;
  }

  private list(root: string): string[] {
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

  /**
   * Temp file + fsync + rename, so a crash never leaves a partial file under the blob's name;
   * then the file is read back and re-hashed, so a write that silently went wrong fails here.
   */
  private async writeVerified(root: string, sha: string, bytes: Uint8Array, overwrite = false): Promise<void> {
    const target = this.pathIn(root, sha);
    if (!overwrite && (await this.readVerified(root, sha))) return;
    const dir = path.dirname(target);
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = `${target}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    const fh = await fs.promises.open(tmp, 'w', 0o640);
    try {
      await fh.writeFile(bytes);
      if (this.durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, target);
    if (this.durable) await syncDir(dir);
    if (!(await this.readVerified(root, sha))) throw new Error(`blob ${sha} did not verify after writing to ${root}`);
  }
}

/** The rename is durable only once the directory entry is. */
async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try { await fh.sync(); } catch { /* some filesystems refuse fsync on directories */ } finally { await fh.close(); }
}
