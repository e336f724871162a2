import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { ConflictError } from '../errors.js';
import { sha256Hex } from '../storage/BlobStore.js';
import { REPAIRED, STAGED_BYTES_CHANGED, stagedSha256 } from './stagedBytes.js';

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
  /** Expanded bytes per compressed byte, per entry and for the whole zip (see Config.ingest). */
  maxZipRatio?: number;
  submissionQuotaBytes?: number;
  userQuotaBytes?: number;
  minFreeBytes?: number;
}

/** Why an upload was refused, for programs: the HTTP status says the class, this the case. */
export type UploadErrorCode = 'TOO_LARGE' | 'ZIP_BOMB' | 'TOO_MANY_ENTRIES' | 'SUBMISSION_QUOTA' | 'USER_QUOTA' | 'DISK_FULL' | 'BAD_ZIP' | 'UNREADABLE';

/** A refused upload: the HTTP layer turns `status` into the response code. */
export class UploadError extends Error {
  constructor(readonly status: number, message: string, readonly code: UploadErrorCode = status === 413 ? 'TOO_LARGE' : 'UNREADABLE') {
    super(message);
  }
}

/** Whose quota an upload counts against: the submission's submitter, and every submission of theirs. */
export interface StagingOwner {
  user: string;
  submissions: number[];
}

/** How long a measured staging directory size stands before it is measured again (discards shrink it). */
const USAGE_FRESH_MS = 60_000;

/**
 * Bytes held in staging per submission: measured from the directory (so a curator's discard
 * counts), then kept current by the uploads themselves; bytes being received count at once,
 * so concurrent uploads cannot overshoot a quota together.
 */
class StagingUsage {
  private readonly measured = new Map<number, { bytes: number; at: number }>();
  private readonly pending = new Map<number, number>();

  constructor(private readonly dirOf: (submissionId: number) => string) {}

  async of(submissionId: number): Promise<number> {
    const m = this.measured.get(submissionId);
    const pending = this.pending.get(submissionId) ?? 0;
    if (m && (pending > 0 || Date.now() - m.at < USAGE_FRESH_MS)) return m.bytes + pending;
    const bytes = await directoryBytes(this.dirOf(submissionId));
    this.measured.set(submissionId, { bytes, at: Date.now() });
    return bytes + (this.pending.get(submissionId) ?? 0);
  }

  /** What `of` last found plus what is arriving now, without touching the disk (every chunk asks). */
  peek(submissionId: number): number {
    return (this.measured.get(submissionId)?.bytes ?? 0) + (this.pending.get(submissionId) ?? 0);
  }

  /** Every byte any upload has charged in this process (only grows): what the disk has taken since a free-space reading. */
  chargedEver = 0;

  charge(submissionId: number, bytes: number): void {
    this.pending.set(submissionId, (this.pending.get(submissionId) ?? 0) + bytes);
    this.chargedEver += bytes;
  }

  /** An upload ended: what it kept moves from pending to measured; what it removed is forgotten. */
  settle(submissionId: number, charged: number, kept: number): void {
    const left = (this.pending.get(submissionId) ?? 0) - charged;
    if (left > 0) this.pending.set(submissionId, left); else this.pending.delete(submissionId);
    const m = this.measured.get(submissionId);
    if (m) m.bytes += kept;
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let names: string[];
  try { names = await fs.promises.readdir(dir); } catch { return 0; }
  let total = 0;
  for (const name of names) {
    try { total += (await fs.promises.stat(path.join(dir, name))).size; } catch { /* removed meanwhile */ }
  }
  return total;
}

/** How long a free-space reading of the staging disk is trusted (with the bytes charged since subtracted). */
const FREE_SPACE_FRESH_MS = 250;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Beside each staged file, the name it was sent under. */
const NAME_SUFFIX = '.name';
/** The staged bytes are not the ones the archive recorded: a disk fault, or a hand in the staging folder (409). */
export class StagedBytesChangedError extends ConflictError {
  constructor() { super(STAGED_BYTES_CHANGED); }
}

interface Bound { code: UploadErrorCode; status: number; why: string; /** Room left now, before this chunk. */ room: () => number }

/**
 * Counts one upload's bytes against every bound it is under, refusing the chunk that would
 * cross one. Quotas are read afresh for every chunk, so uploads running side by side see each
 * other's bytes and cannot overshoot together.
 */
class Meter {
  charged = 0;
  constructor(private readonly usage: StagingUsage, private readonly submissionId: number, private readonly bounds: Bound[]) {}

  take(bytes: number): void {
    for (const b of this.bounds) if (bytes > b.room()) throw new UploadError(b.status, b.why, b.code);
    this.charged += bytes;
    this.usage.charge(this.submissionId, bytes);
  }

  /** A narrower meter for part of the upload (a zip's expansion within its ratio bound). */
  within(room: number, code: UploadErrorCode, why: string): Meter {
    const start = this.charged;
    return new Meter(this.usage, this.submissionId, [...this.bounds, { code, status: 413, why, room: () => room - (this.charged - start) }]).sharing(this);
  }

  /** Charges land on `outer` too (its total is what the upload settles). */
  private sharing(outer: Meter): Meter {
    const own = this.take.bind(this);
    this.take = (bytes: number) => { own(bytes); outer.charged += bytes; };
    return this;
  }
}

/**
 * The staging area holds received bytes exactly as sent, under the submission, until a
 * curator discards them. It is never served and nothing else reads from it but the pipeline.
 */
export class StagingArea {
  private readonly usage: StagingUsage;

  constructor(
    readonly root: string,
    private readonly limits: StagingLimits,
    /** Free bytes on the disk holding a directory (statfs; a test gives a disk of its own size). */
    private readonly freeBytesOf: (dir: string) => Promise<number | null> = freeBytes,
  ) {
    this.usage = new StagingUsage((id) => path.join(this.root, 'submissions', String(id)));
  }

  private reading: { at: number; result: Promise<{ free: number | null; charged: number }> } | null = null;

  /**
   * The staging disk's free bytes, read at most every FREE_SPACE_FRESH_MS and once for the
   * uploads that ask together: a statfs per upload cost ≈ 0.7 ms of the main thread in
   * bench:ingest. The caller subtracts what uploads charged since the reading; what other
   * processes wrote shows at the next reading.
   */
  private freeSpace(): Promise<{ free: number | null; charged: number }> {
    const now = Date.now();
    if (!this.reading || now - this.reading.at >= FREE_SPACE_FRESH_MS) {
      const charged = this.usage.chargedEver;
      this.reading = { at: now, result: this.freeBytesOf(this.root).then((free) => ({ free, charged })) };
    }
    return this.reading.result;
  }

  /** Bytes one submission holds in staging now (received, not discarded), uploads in flight included. */
  async bytesHeld(submissionId: number): Promise<number> {
    return this.usage.of(submissionId);
  }

  /**
   * What an upload to `submissionId` may still write: the per-submission and per-submitter
   * quotas, and the staging disk's free space above its floor. Refuses at once when one is spent.
   */
  private async meter(submissionId: number, owner: StagingOwner | undefined): Promise<Meter> {
    const l = this.limits;
    const bounds: Bound[] = [];
    if (l.submissionQuotaBytes) {
      const quota = l.submissionQuotaBytes;
      await this.usage.of(submissionId);
      bounds.push({ code: 'SUBMISSION_QUOTA', status: 413, room: () => quota - this.usage.peek(submissionId),
        why: `the submission would hold more than its staging quota of ${quota} bytes; ask a curator to process and discard received files, or start another submission` });
    }
    if (l.userQuotaBytes && owner) {
      const quota = l.userQuotaBytes;
      const ids = [...new Set([...owner.submissions, submissionId])];
      for (const id of ids) await this.usage.of(id);
      bounds.push({ code: 'USER_QUOTA', status: 413, room: () => quota - ids.reduce((n, id) => n + this.usage.peek(id), 0),
        why: `your submissions would hold more than the per-submitter staging quota of ${quota} bytes` });
    }
    const meter = new Meter(this.usage, submissionId, bounds);
    if (l.minFreeBytes) {
      const reading = await this.freeSpace();
      const floor = l.minFreeBytes;
      // Every upload's bytes since the reading count against it (this one's and those alongside).
      if (reading.free !== null) {
        const free = reading.free;
        bounds.push({ code: 'DISK_FULL', status: 507, room: () => free - floor - (this.usage.chargedEver - reading.charged), why: 'the staging area is nearly full; try again later' });
      }
    }
    for (const b of bounds) if (b.room() <= 0) throw new UploadError(b.status, b.why, b.code);
    return meter;
  }

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

  /** A staged file's bytes, verified against what was recorded of them (stagedSha256). */
  async read(stagingPath: string, received: string): Promise<Buffer> {
    const bytes = await fs.promises.readFile(this.absolute(stagingPath));
    if (sha256Hex(bytes) !== stagedSha256(stagingPath, received)) throw new StagedBytesChangedError();
    return bytes;
  }

  /**
   * Stages a repaired copy of a staged file beside it and answers its staging path. The original
   * stays as received; the copy is named by its own sha256, so reads of it are verified as reads of
   * received bytes are, and it keeps the name the original was sent under.
   */
  async stageRepair(from: string, bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    const to = path.join(path.dirname(from), `${path.basename(from).replace(REPAIRED, '')}.repaired-${sha}`);
    await fs.promises.writeFile(this.absolute(to), bytes, { mode: 0o600 });
    const name = await this.nameOf(from);
    if (name !== null) await fs.promises.writeFile(this.absolute(to) + NAME_SUFFIX, name, { mode: 0o600 });
    return to;
  }

  /** Deletes a staged file's bytes and name; whether there were bytes to delete. */
  async discard(stagingPath: string): Promise<boolean> {
    const file = this.absolute(stagingPath);
    const had = fs.existsSync(file);
    await Promise.all([fs.promises.rm(file, { force: true }), fs.promises.rm(file + NAME_SUFFIX, { force: true })]);
    return had;
  }

  /** Keeps a staged file's name beside it (`name` as cleanFileName made it). */
  private async stage(rel: string, name: string): Promise<void> {
    await fs.promises.writeFile(this.absolute(rel) + NAME_SUFFIX, name, { mode: 0o600 });
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
  async receive(submissionId: number, body: Readable, name: string, owner?: StagingOwner): Promise<StagedFile[]> {
    const dir = path.join(this.root, 'submissions', String(submissionId));
    let meter: Meter;
    try {
      meter = await this.meter(submissionId, owner);
    } catch (err) {
      // Refused before a byte is read: the body is drained, not kept (an HTTP client still sending
      // would otherwise see its connection reset instead of the answer).
      body.resume();
      throw err;
    }
    let kept = 0;
    try {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = path.join(dir, `.upload-${crypto.randomUUID()}`);
      let renamed = false;
      // A zip may hold many files, so the body may exceed the per-file limit; its expansion is bounded below.
      const received = await writeBounded(body, tmp, this.limits.maxZipExpandedBytes, (head, size) =>
        size > this.limits.maxFileBytes && !head.subarray(0, 4).equals(ZIP_MAGIC)
          ? `the file exceeds the per-file limit of ${this.limits.maxFileBytes} bytes` : null, meter);
      try {
        if (received.head.subarray(0, 4).equals(ZIP_MAGIC)) {
          const staged = await this.expandZip(submissionId, tmp, name, received.size, meter);
          kept = staged.reduce((n, f) => n + f.size, 0);
          return staged;
        }
        const id = crypto.randomUUID();
        const rel = path.join('submissions', String(submissionId), id);
        await fs.promises.rename(tmp, this.absolute(rel));
        renamed = true;
        const clean = cleanFileName(name);
        await this.stage(rel, clean);
        kept = received.size;
        return [{ name: clean, label: 'uploaded file', stagingPath: rel, size: received.size, sha256: received.sha256 }];
      } finally {
        if (!renamed) await fs.promises.rm(tmp, { force: true });
      }
    } finally {
      this.usage.settle(submissionId, meter.charged, kept);
    }
  }

  private async expandZip(submissionId: number, zipPath: string, zipName: string, zipSize: number, meter: Meter): Promise<StagedFile[]> {
    const ratio = this.limits.maxZipRatio ?? Infinity;
    // A little slack, so a zip of a few tiny files is never refused for its ratio.
    const slack = 1 << 20;
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
        yauzl.open(zipPath, { lazyEntries: true, validateEntrySizes: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z!))));
    } catch (err) {
      throw new UploadError(400, `the zip could not be read: ${(err as Error).message}`, 'BAD_ZIP');
    }
    const staged: StagedFile[] = [];
    let expanded = 0;
    try {
      if (zip.entryCount > this.limits.maxZipEntries) throw new UploadError(413, `the zip holds ${zip.entryCount} entries, more than the limit of ${this.limits.maxZipEntries}`, 'TOO_MANY_ENTRIES');
      const expansion = meter.within(Math.min(this.limits.maxZipExpandedBytes, ratio * zipSize + slack), 'ZIP_BOMB',
        `the zip expands beyond ${Math.min(this.limits.maxZipExpandedBytes, ratio * zipSize + slack)} bytes (at most ${ratio} times its own size, and ${this.limits.maxZipExpandedBytes} bytes in all)`);
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
        if (expanded + entry.uncompressedSize > this.limits.maxZipExpandedBytes) throw new UploadError(413, `the zip expands beyond the limit of ${this.limits.maxZipExpandedBytes} bytes`, 'ZIP_BOMB');
        if (entry.uncompressedSize > ratio * entry.compressedSize + slack || expanded + entry.uncompressedSize > ratio * zipSize + slack) {
          throw new UploadError(413, `zip entry ${staged.length + 1} expands more than ${ratio} times (a zip bomb?)`, 'ZIP_BOMB');
        }
        const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s!))));
        const id = crypto.randomUUID();
        const rel = path.join('submissions', String(submissionId), id);
        const budget = Math.min(this.limits.maxFileBytes, this.limits.maxZipExpandedBytes - expanded);
        const got = await writeBounded(stream, this.absolute(rel), budget, () => null, expansion, 'destroy', entry.crc32).catch((err) => {
          throw err instanceof UploadError && err.code === 'BAD_ZIP' ? new UploadError(400, `zip entry ${staged.length + 1}: ${err.message}`, 'BAD_ZIP') : err;
        });
        expanded += got.size;
        staged.push({ name: cleanFileName(`${zipName}/${entry.fileName}`), label: `zip entry ${staged.length + 1}`, stagingPath: rel, size: got.size, sha256: got.sha256 });
        await this.stage(rel, staged.at(-1)!.name);
      }
    } catch (err) {
      // All or nothing per upload: a refused zip leaves no half of itself behind.
      await Promise.all(staged.map((f) => this.discard(f.stagingPath)));
      if (err instanceof UploadError) throw err;
      throw new UploadError(400, `the zip could not be expanded: ${(err as Error).message}`, 'BAD_ZIP');
    } finally {
      zip.close();
    }
    return staged;
  }
}

/** The longest name kept, in code points: a path inside a zip and its file name, with room to spare. */
export const MAX_FILE_NAME_CHARS = 1024;

/**
 * Characters that change what a reader of a name sees rather than name anything: control
 * characters (C0, DEL, C1: NUL, newlines that forge log lines, terminal escapes), line and
 * paragraph separators, bidirectional marks and overrides ("invoice\u202Emcd.exe" shows as
 * "invoiceexe.dcm"), and U+FFFD, which is what bytes that were not UTF-8 decode to.
 */
const UNSHOWABLE = /[\p{Cc}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/u;

/** Half of a UTF-16 pair without its other half: no character at all. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** The two above, every match: cleanFileName runs once per zip entry (up to 200,000 an upload). */
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const UNSHOWABLES = new RegExp(UNSHOWABLE.source, 'gu');

/**
 * Why a client's name for its upload is refused, or null when it is kept as sent (NFC). A name is
 * the client's words, shown to the submitter and to curators and never used as a path, so path
 * syntax (../, /, \) is allowed; what is refused is what is not one readable string.
 */
export function fileNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'give the file one name (name appears more than once)';
  if (LONE_SURROGATE.test(name)) return 'the file name is not valid Unicode (a lone surrogate)';
  if ([...name].length > MAX_FILE_NAME_CHARS) return `the file name is longer than ${MAX_FILE_NAME_CHARS} characters`;
  if (UNSHOWABLE.test(name)) return 'the file name holds control, line-separator or bidirectional-override characters, or bytes that were not UTF-8';
  return null;
}

/**
 * A name made safe to keep and show: what fileNameProblem refuses is removed, lone surrogates
 * are dropped, the result is NFC and its last MAX_FILE_NAME_CHARS code points (the
 * file's own name is at the end of a path). For names that cannot be refused one by one: a zip's
 * entries, files an offline import walks.
 */
export function cleanFileName(name: unknown): string {
  if (typeof name !== 'string') return 'upload';
  const clean = name.replace(LONE_SURROGATES, '').normalize('NFC').replace(UNSHOWABLES, '');
  return [...clean].slice(-MAX_FILE_NAME_CHARS).join('') || 'upload';
}


/** Free bytes on the filesystem holding `dir` (the nearest existing ancestor); null where statfs is unavailable. */
async function freeBytes(dir: string): Promise<number | null> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      const st = await fs.promises.statfs(d);
      return st.bavail * st.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || d === path.dirname(d)) return null;
    }
  }
}

/** Streams into `file` (fsynced), refusing more than `limit` bytes or whatever `refuse` objects to. */
/**
 * Writes `body` to `file` (fsynced), counted against `limit` and the meter, hashed as it arrives.
 * `crc32`, for a zip entry, is the checksum its zip records: yauzl does not check it
 * (https://github.com/thejoshwolfe/yauzl#no-crc-32-checking), and an entry whose bytes do not
 * match was staged, and archived, as if sound.
 */
async function writeBounded(body: Readable, file: string, limit: number, refuse: (head: Buffer, size: number) => string | null, meter?: Meter, onRefusal: 'drain' | 'destroy' = 'drain', crc32: number | null = null): Promise<{ size: number; sha256: string; head: Buffer }> {
  // Listened to from the start: a zip entry's streams are already flowing while the file below is
  // opened, and an error raised then (a header that lies about the entry's size) would otherwise
  // be an 'error' event with nobody listening, which ends the process.
  let failed: unknown = null;
  body.on('error', (err) => { failed ??= err; });
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(file, 'w', 0o600);
  let size = 0;
  let crc = 0;
  let head = Buffer.alloc(0);
  try {
    if (failed) throw failed;
    // Not destroyed on a refusal (see the catch below).
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (head.length < 4) head = Buffer.concat([head, buf.subarray(0, 4)]);
      if (size > limit) throw new UploadError(413, `the upload exceeds the limit of ${limit} bytes`);
      const why = refuse(head, size);
      if (why) throw new UploadError(413, why);
      meter?.take(buf.length);
      hash.update(buf);
      if (crc32 !== null) crc = zlib.crc32(buf, crc);
      await fh.write(buf);
    }
    if (failed) throw failed;
    if (crc32 !== null && crc !== crc32) throw new UploadError(400, 'its bytes do not match the CRC-32 the zip records for them (a damaged zip)', 'BAD_ZIP');
    await fh.sync();
  } catch (err) {
    // A refusal drains the rest of the body rather than cutting the connection, so an HTTP
    // client still sending reads the 413 instead of a reset; a body that failed is ended.
    // A zip entry is destroyed instead: draining a bomb would inflate it.
    const drain = err instanceof UploadError && onRefusal === 'drain';
    if (drain) body.resume(); else body.destroy();
    await fh.close();
    await fs.promises.rm(file, { force: true });
    if (err instanceof UploadError) throw err;
    throw new UploadError(400, `the upload could not be read: ${(err as Error).message}`);
  }
  await fh.close();
  return { size, sha256: hash.digest('hex'), head };
}
