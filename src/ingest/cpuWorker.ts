// The worker halves of the stages (screen, identify, de-identify → store → derive), run on the
// piscina pool (cpuTasks.ts) so a multi-core machine works on several files at once while the
// main thread keeps the database and the HTTP server responsive. Every task answers: a failure
// comes back as an `error` response the pipeline turns into the file's quarantine.
import fs from 'node:fs';
import { deidentify, readSourceIdentity, type DeidResult } from '../deid/index.js';
import { EXPLICIT_BE, readDicom, scalar, silenceDcmjs } from '../dicom/index.js';
import { decodeFrame, displayParsed, imageFromHeader, setDecodeLimits, toDisplay8, type Image8 } from '../imaging/index.js';
import { checkFile } from '../qc/checks.js';
import { LocalBlobStore, sha256Hex } from '../storage/BlobStore.js';
import { openBlobStore } from '../storage/open.js';
import type { BlobStore } from '../storage/store.js';
import { closedAnswer } from './closedTask.js';
import type { CpuResponse, CpuTask, MetadataFields, WorkerStorage } from './cpuTasks.js';
import { productNamed, type DeriveSource, type ProductResult } from './products/index.js';
import { STAGED_BYTES_CHANGED } from './stagedBytes.js';

// dcmjs warns on the console about what it reads, and such messages can quote attribute values.
silenceDcmjs();

const FIELDS: [keyof MetadataFields, string][] = [
  ['StudyInstanceUID', '0020000D'], ['SeriesInstanceUID', '0020000E'], ['SOPInstanceUID', '00080018'], ['SOPClassUID', '00080016'],
  ['Modality', '00080060'], ['BodyPartExamined', '00180015'], ['StudyDescription', '00081030'], ['SeriesDescription', '0008103E'],
  ['SeriesNumber', '00200011'], ['InstanceNumber', '00200013'], ['Rows', '00280010'], ['Columns', '00280011'],
  ['NumberOfFrames', '00280008'], ['BitsAllocated', '00280100'], ['StudyDate', '00080020'], ['PatientAge', '00101010'],
];

/**
 * The archives' stores, opened once per worker and archive. The worker pool is shared by every
 * pipeline of the process (cpuTasks.ts), so tasks of several archives may alternate here (the
 * test kit opens many); a store is kept for the few most recent, and one left out is closed.
 */
const opened = new Map<string, { blobs: BlobStore; thumbnails: LocalBlobStore | null }>();
const OPEN_STORES = 4;

function stores(s: WorkerStorage): { blobs: BlobStore; thumbnails: LocalBlobStore | null } {
  const key = JSON.stringify(s);
  let found = opened.get(key);
  if (found) {
    opened.delete(key);
  } else {
    found = { blobs: openBlobStore(s.blobs), thumbnails: s.thumbnails && new LocalBlobStore(s.thumbnails.primaryRoot, s.thumbnails.backupRoot, s.thumbnails.durable) };
    if (opened.size >= OPEN_STORES) {
      const [oldest, stale] = opened.entries().next().value!;
      opened.delete(oldest);
      void stale.blobs.close();
    }
  }
  // Most recently used last: a Map iterates in insertion order.
  opened.set(key, found);
  return found;
}

/**
 * The de-identified file as the products see it: the header de-identification just wrote where
 * it has one (no second parse), else the archived bytes read once through src/dicom.
 */
function deriveSource(output: Uint8Array, header: DeidResult['header'], options: DeriveSource['options'], settings: DeriveSource['settings'], thumbnails: LocalBlobStore | null, received?: DeriveSource['received']): DeriveSource {
  let display: Promise<Image8> | null = null;
  const source: DeriveSource = {
    output, header: header ?? headerOf(output), options, settings, thumbnails,
    display: () => (display ??= (async () => {
      const h = source.header;
      if (h.pixelValue && !h.encapsulated && h.transferSyntaxUid !== EXPLICIT_BE) {
        return displayParsed(imageFromHeader(h.transferSyntaxUid, h.dict, h.pixelValue), undefined, (size) => scratch.display.take(size));
      }
      return toDisplay8(await decodeFrame(source.output));
    })()),
  };
  if (received) {
    source.received = received;
    source.replaceOutput = (replacement) => {
      source.output = replacement;
      source.header = headerOf(replacement);
      display = null;
    };
  }
  return source;
}

/** The header of archived bytes, read once through src/dicom. */
function headerOf(output: Uint8Array): DeriveSource['header'] {
  const file = readDicom(output, { headerOnly: true });
  const pixel = file.headerOnly ? file.framed.pixelElement : null;
  return {
    dict: file.message.dict, transferSyntaxUid: file.framed.transferSyntaxUid, pixelValue: pixel?.value ?? null,
    pixelVr: pixel && file.framed.transferSyntaxUid !== '1.2.840.10008.1.2' ? Buffer.from(pixel.bytes.subarray(4, 6)).toString('latin1') : 'OW',
    encapsulated: file.framed.pixelDataLength === -1,
  };
}

/** Runs the named products' worker halves; one that fails is reported by its error's class, never fatal. */
async function deriveAll(source: DeriveSource, names: string[]): Promise<Record<string, ProductResult>> {
  const out: Record<string, ProductResult> = {};
  for (const name of names) {
    const product = productNamed(name);
    if (!product) { out[name] = { error: 'UnknownProduct' }; continue; }
    try {
      out[name] = { value: await product.derive(source) };
    } catch (e) {
      out[name] = { error: (e as Error)?.name ?? 'Error' };
    }
  }
  return out;
}

/**
 * `cpuDone` is called once the task no longer needs the thread (nor the staged read buffer):
 * the next task starts then, while this one's durable write waits on the devices.
 */
async function handle(req: CpuTask, cpuDone: () => void): Promise<CpuResponse> {
  // The thread is shared by the process's pipelines: the sender's bounds, not the thread's start-up environment's.
  const { settings } = req;
  setDecodeLimits(settings.decodeLimits);
  if (req.task === 'derive') {
    const { blobs, thumbnails } = stores(req.storage);
    const output = await blobs.get(req.sha256);
    return { products: await deriveAll(deriveSource(output, null, req.options, settings, thumbnails), req.products) };
  }
  let bytes: Buffer;
  try { bytes = readStaged(req.path); } catch { return { error: { kind: 'missing', message: 'the received bytes are no longer in the staging area' } }; }
  if (req.task === 'check') return { check: await checkFile(bytes, { decodePixels: 'compressed' }) };
  if (bytes.length === 0) return { error: { kind: 'empty', message: 'the file is empty (0 bytes)' } };
  if (req.task === 'identify') return { identity: readSourceIdentity(bytes) };
  // A verified read, as every read of stored bytes is: what is archived is what was received. A
  // staged file changed since (a disk fault, a hand in the staging folder) is set aside, not
  // de-identified and archived as if the submitter had sent it (≈ 0.3 ms per 512×512 CT).
  if (sha256Hex(bytes) !== req.sha256) {
    return { error: { kind: 'changed', message: STAGED_BYTES_CHANGED } };
  }
  const output = await outputs.take();
  try {
    const result = deidentify(bytes, req.ctx, { outputBuffer: (size) => output.take(size) });
    const { blobs, thumbnails } = stores(req.storage);
    // A product may tighten the hold (the burned-in text check holds a file until its verdict is recorded), never lift it here.
    const received = { bytes, heldForPixelReview: result.heldForPixelReview };
    const source = deriveSource(result.output, result.header, req.ctx.options, settings, thumbnails, received);
    const dict = source.header.dict;
    const fields = Object.fromEntries(FIELDS.map(([keyword, tag]) => [keyword, scalar(dict[tag]?.Value)])) as unknown as MetadataFields;
    const products = await deriveAll(source, req.products);
    cpuDone();
    // A product may have replaced the output (redacted pixels): store and hash what it left.
    const stored = source.output;
    const sha = await blobs.put(stored);
    const transferSyntaxUid = stored === result.output ? result.transferSyntaxUid : source.header.transferSyntaxUid;
    return { deid: { sha256: sha, size: stored.length, heldForPixelReview: received.heldForPixelReview, fields, transferSyntaxUid, products } };
  } finally {
    outputs.give(output);
  }
}

const REUSED_MAX = 64 * 1024 * 1024;

/**
 * A buffer reused from task to task: a fresh half-megabyte for every file read, output and
 * display image costs page faults and garbage collection (V8 collects when such memory
 * grows), several times per file. Safe because the staged and display buffers serve only the
 * task that has the thread, output buffers are lent to one task until its write is done, and
 * nothing a task returns refers to one of these.
 */
class Scratch {
  private buf = Buffer.alloc(0);

  /** At least `size` bytes; a rare huge file gets a buffer of its own rather than pinning its size in every worker. */
  take(size: number): Buffer {
    if (size <= this.buf.length) return this.buf;
    const b = Buffer.allocUnsafe(size <= REUSED_MAX ? Math.min(REUSED_MAX, Math.max(size, 2 * this.buf.length)) : size);
    if (b.length <= REUSED_MAX) this.buf = b;
    return b;
  }
}

const scratch = { staged: new Scratch(), display: new Scratch() };

/**
 * Output buffers, one per file whose durable write is in flight; at most OUTPUTS_IN_FLIGHT, so
 * a slow disk holds the worker back instead of piling up memory.
 */
const OUTPUTS_IN_FLIGHT = Math.max(1, Number(process.env.OBIA_INGEST_WRITES_PER_WORKER) || 3);
const outputs = {
  free: [] as Scratch[],
  lent: 0,
  waiting: [] as ((s: Scratch) => void)[],
  take(): Promise<Scratch> {
    const s = this.free.pop() ?? (this.lent < OUTPUTS_IN_FLIGHT ? new Scratch() : null);
    if (s) { this.lent++; return Promise.resolve(s); }
    return new Promise((resolve) => this.waiting.push(resolve));
  },
  give(s: Scratch): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else { this.lent--; this.free.push(s); }
  },
};

/** Reads a staged file (screening reads it, then de-identification). */
function readStaged(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const into = scratch.staged.take(size);
    let got = 0;
    for (let n = -1; got < size && n !== 0; got += n) n = fs.readSync(fd, into, got, size - got, got);
    return into.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

// One task on the thread's CPU at a time (a task awaits codecs and the disk; piscina lets two
// share a worker): the reused read buffer relies on it. A task lets the next one start when it
// has only its durable write left to wait for.
let queue: Promise<unknown> = Promise.resolve();

export default async function run(req: CpuTask): Promise<CpuResponse> {
  let cpuDone!: () => void;
  const released = new Promise<void>((resolve) => { cpuDone = resolve; });
  const turn = queue;
  queue = turn.then(() => released);
  await turn;
  try {
    return closedAnswer(req) ?? await handle(req, cpuDone);
  } catch (e) {
    const err = e as Error & { reason?: string };
    // Only a DicomParseError's reason is shown to submitters: other messages may quote file contents.
    return { error: err instanceof Error && 'reason' in err && /DicomParseError|DicomDatasetError/.test(err.name) ? { kind: 'parse', message: err.reason ?? 'unparseable' } : { kind: 'internal', message: err?.name ?? 'Error' } };
  } finally {
    cpuDone();
  }
}
