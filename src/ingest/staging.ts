import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

export interface StagedFile {
  /** The name it was sent under (or its path inside the zip); kept in the staging area only. */
  name: string;
  /** What the database calls it: file names may identify patients, so it gets a neutral one. */
  label: string;
  /** Relative to the staging root. */
  stagingPath: string;
  size: number;
  sha256: string;
}

export interface StagingLimits {
  maxFileBytes: number;
  maxZipExpandedBytes: number;
  maxZipEntries: number;
}

/** A refused upload: the HTTP layer turns `status` into the response code. */
export class UploadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Beside each staged file, the name it was sent under. */
const NAME_SUFFIX = '.name';

/**
 * The staging area holds received bytes exactly as sent, under the submission, until a
 * curator discards them. It is never served and nothing else reads from it but the pipeline.
 */
export class StagingArea {
  constructor(readonly root: string, private readonly limits: StagingLimits) {}

  /**
   * The name a staged file was sent under, while its bytes are staged (null once discarded).
   * Submitters often name files after patients, so names live beside the bytes, never in the
   * database.
   */
  async nameOf(stagingPath: string): Promise<string | null> {
    try {
      return await fs.promises.readFile(this.absolute(stagingPath) + NAME_SUFFIX, 'utf8');
    } catch {
      return null;
    }
  }

  /** A repaired copy of a staged file keeps the name the original was sent under. */
  async copyName(from: string, to: string): Promise<void> {
    const name = await this.nameOf(from);
    if (name !== null) await fs.promises.writeFile(this.absolute(to) + NAME_SUFFIX, name, { mode: 0o600 });
  }

  /** Deletes a staged file's bytes and name; whether there were bytes to delete. */
  async discard(stagingPath: string): Promise<boolean> {
    const file = this.absolute(stagingPath);
    const had = fs.existsSync(file);
    await Promise.all([fs.promises.rm(file, { force: true }), fs.promises.rm(file + NAME_SUFFIX, { force: true })]);
    return had;
  }

  private async stage(rel: string, name: string): Promise<void> {
    await fs.promises.writeFile(this.absolute(rel) + NAME_SUFFIX, safeName(name), { mode: 0o600 });
  }

  absolute(stagingPath: string): string {
    const full = path.resolve(this.root, stagingPath);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error('staging path escapes the staging root');
    return full;
  }

  /**
   * Receives one upload (a single DICOM file or a zip of them). The body goes to a temporary
   * file first, counted and hashed as it arrives; a zip is expanded with bounds on every
   * entry and on the total, so a zip bomb is refused without filling the disk.
   */
  async receive(submissionId: number, body: Readable, name: string): Promise<StagedFile[]> {
    const dir = path.join(this.root, 'submissions', String(submissionId));
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.upload-${crypto.randomUUID()}`);
    // A zip may hold many files, so the body may exceed the per-file limit; its expansion is bounded below.
    const received = await writeBounded(body, tmp, this.limits.maxZipExpandedBytes, (head, size) =>
      size > this.limits.maxFileBytes && !head.subarray(0, 4).equals(ZIP_MAGIC)
        ? `the file exceeds the per-file limit of ${this.limits.maxFileBytes} bytes` : null);
    try {
      if (received.head.subarray(0, 4).equals(ZIP_MAGIC)) return await this.expandZip(submissionId, tmp, name);
      const id = crypto.randomUUID();
      const rel = path.join('submissions', String(submissionId), id);
      await fs.promises.rename(tmp, this.absolute(rel));
      await this.stage(rel, name);
      return [{ name: safeName(name), label: 'uploaded file', stagingPath: rel, size: received.size, sha256: received.sha256 }];
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  private async expandZip(submissionId: number, zipPath: string, zipName: string): Promise<StagedFile[]> {
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
        yauzl.open(zipPath, { lazyEntries: true, validateEntrySizes: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z!))));
    } catch (err) {
      throw new UploadError(400, `the zip could not be read: ${(err as Error).message}`);
    }
    const staged: StagedFile[] = [];
    let expanded = 0;
    try {
      if (zip.entryCount > this.limits.maxZipEntries) throw new UploadError(413, `the zip holds ${zip.entryCount} entries, more than the limit of ${this.limits.maxZipEntries}`);
      for (;;) {
        const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
          zip.once('entry', resolve); zip.once('end', () => resolve(null)); zip.once('error', reject);
          zip.readEntry();
        });
        if (!entry) break;
        zip.removeAllListeners('entry'); zip.removeAllListeners('end'); zip.removeAllListeners('error');
        if (entry.fileName.endsWith('/') || entry.fileName.startsWith('__MACOSX/') || path.basename(entry.fileName).startsWith('._')) continue;
        // Declared sizes are checked first (cheap) and the actual bytes again while streaming (a lying header).
        if (entry.uncompressedSize > this.limits.maxFileBytes) throw new UploadError(413, `zip entry ${staged.length + 1} exceeds the per-file limit of ${this.limits.maxFileBytes} bytes`);
        if (expanded + entry.uncompressedSize > this.limits.maxZipExpandedBytes) throw new UploadError(413, `the zip expands beyond the limit of ${this.limits.maxZipExpandedBytes} bytes`);
        const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s!))));
        const id = crypto.randomUUID();
        const rel = path.join('submissions', String(submissionId), id);
        const budget = Math.min(this.limits.maxFileBytes, this.limits.maxZipExpandedBytes - expanded);
        const got = await writeBounded(stream, this.absolute(rel), budget, () => null);
        expanded += got.size;
        staged.push({ name: safeName(`${zipName}/${entry.fileName}`), label: `zip entry ${staged.length + 1}`, stagingPath: rel, size: got.size, sha256: got.sha256 });
        await this.stage(rel, staged.at(-1)!.name);
      }
    } catch (err) {
      // All or nothing per upload: a refused zip leaves no half of itself behind.
      await Promise.all(staged.map((f) => this.discard(f.stagingPath)));
      if (err instanceof UploadError) throw err;
      throw new UploadError(400, `the zip could not be expanded: ${(err as Error).message}`);
    } finally {
      zip.close();
    }
    return staged;
  }
}

function safeName(name: string): string {
  return name.replace(/[\0-\x1f]/g, '').slice(-500) || 'upload';
}

/** Streams into `file` (fsynced), refusing more than `limit` bytes or whatever `refuse` objects to. */
async function writeBounded(body: Readable, file: string, limit: number, refuse: (head: Buffer, size: number) => string | null): Promise<{ size: number; sha256: string; head: Buffer }> {
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(file, 'w', 0o600);
  let size = 0;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (head.length < 4) head = Buffer.concat([head, buf.subarray(0, 4)]);
      if (size > limit) throw new UploadError(413, `the upload exceeds the limit of ${limit} bytes`);
      const why = refuse(head, size);
      if (why) throw new UploadError(413, why);
      hash.update(buf);
      await fh.write(buf);
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.promises.rm(file, { force: true });
    body.destroy();
    if (err instanceof UploadError) throw err;
    throw new UploadError(400, `the upload could not be read: ${(err as Error).message}`);
  }
  await fh.close();
  return { size, sha256: hash.digest('hex'), head };
}
