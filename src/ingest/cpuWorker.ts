// The CPU-bound half of the pipeline (screening, parsing, de-identification, thumbnails, hash
// inputs, census), run in worker threads so a multi-core machine works on several files at
// once while the main thread keeps the database and the HTTP server responsive.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { silenceDcmjs } from '../dicom/index.js';
import { deidentify, readSourceIdentity, type DeidContext, type DeidResult } from '../deid/index.js';
import { decodeFrame, displayParsed, grayOf, imageFromHeader, thumbnailOfDisplay, toDisplay8, type Image8 } from '../imaging/index.js';
import { checkFile } from '../qc/checks.js';
import { TagCensus } from '../qc/TagCensus.js';
import { preprocess } from '../retrieval/preprocess.js';
import { BlobStore } from '../storage/BlobStore.js';
import type { CpuRequest, CpuResponse, DeidOutcome, MetadataFields, WorkerStorage } from './cpuTasks.js';

// dcmjs warns on the console about what it reads (odd VRs, values it cannot convert), and such
// messages can quote attribute values: a worker that parses submitted files keeps it quiet.
silenceDcmjs();

const FIELDS: [keyof MetadataFields, string][] = [
  ['StudyInstanceUID', '0020000D'], ['SeriesInstanceUID', '0020000E'], ['SOPInstanceUID', '00080018'], ['SOPClassUID', '00080016'],
  ['Modality', '00080060'], ['BodyPartExamined', '00180015'], ['StudyDescription', '00081030'], ['SeriesDescription', '0008103E'],
  ['SeriesNumber', '00200011'], ['InstanceNumber', '00200013'], ['Rows', '00280010'], ['Columns', '00280011'],
  ['NumberOfFrames', '00280008'], ['BitsAllocated', '00280100'], ['StudyDate', '00080020'], ['PatientAge', '00101010'],
];

function plain(v: unknown): unknown {
  if (Array.isArray(v)) return plain(v[0]);
  if (v && typeof v === 'object' && 'Alphabetic' in (v as object)) return (v as { Alphabetic: unknown }).Alphabetic;
  return v === undefined || v === null || typeof v === 'object' ? null : v;
}

type Derived = Pick<DeidOutcome, 'census' | 'thumbnailSha256' | 'thumbnailError' | 'hashInput' | 'hashError'>;

let opened: { key: string; blobs: BlobStore; thumbnails: BlobStore } | null = null;

/** The archive's stores, opened once per worker (every task names the same ones). */
function stores(s: WorkerStorage): { blobs: BlobStore; thumbnails: BlobStore } {
  const key = JSON.stringify(s);
  if (opened?.key !== key) {
    opened = {
      key,
      blobs: new BlobStore(s.blobs.primaryRoot, s.blobs.backupRoot, s.blobs.durable),
      thumbnails: new BlobStore(s.thumbnails.primaryRoot, s.thumbnails.backupRoot, s.thumbnails.durable),
    };
  }
  return opened;
}

/** The stored image's middle frame for display, from the header and pixels de-identification already holds where it can. */
async function storedDisplay(result: DeidResult): Promise<Image8> {
  const h = result.header;
  if (h && !h.encapsulated) return displayParsed(imageFromHeader(h.transferSyntaxUid, h.dict, h.pixelValue), undefined, (size) => scratch.display.take(size));
  return toDisplay8(await decodeFrame(result.output));
}

/**
 * Everything the archive derives from a de-identified file, computed where the file is parsed:
 * the tag census of its header, and from one decode of its pixels both the thumbnail (stored
 * in the thumbnail cache) and the retrieval model's input. A derivative that fails is
 * reported, not fatal.
 */
async function derive(result: DeidResult, ctx: DeidContext, want: { thumbnail: boolean; hashInput: boolean }, thumbnails: BlobStore): Promise<Derived> {
  const census = new TagCensus({ options: ctx.options });
  if (result.header) {
    const { dict, pixelValue, pixelVr } = result.header;
    census.addDataset({ ...dict, '7FE00010': { vr: pixelVr, Value: [pixelValue] } });
  } else {
    census.addPart10(result.output);
  }
  const out: Derived = { census: census.toJSON(), thumbnailSha256: null, thumbnailError: null, hashInput: null, hashError: null };
  if (!want.thumbnail && !want.hashInput) return out;
  let display;
  try {
    display = await storedDisplay(result);
  } catch (e) {
    const why = (e as Error)?.name ?? 'Error';
    return { ...out, thumbnailError: want.thumbnail ? why : null, hashError: want.hashInput ? why : null };
  }
  if (want.thumbnail) {
    try {
      out.thumbnailSha256 = thumbnails.putSync(thumbnailOfDisplay(display, 128));
    } catch (e) {
      out.thumbnailError = (e as Error)?.name ?? 'Error';
    }
  }
  if (want.hashInput) out.hashInput = preprocess(grayOf(display));
  return out;
}

/**
 * `cpuDone` is called once the task no longer needs the thread (nor the staged read buffer):
 * the next task starts then, while this one's durable write waits on the devices.
 */
async function handle(req: CpuRequest, cpuDone: () => void): Promise<CpuResponse> {
  let bytes: Buffer;
  try { bytes = readStaged(req.path); } catch { return { id: req.id, error: { kind: 'missing', message: 'the received bytes are no longer in the staging area' } }; }
  try {
    if (req.task === 'check') return { id: req.id, check: await checkFile(bytes, { decodePixels: 'compressed' }) };
    if (bytes.length === 0) return { id: req.id, error: { kind: 'empty', message: 'the file is empty (0 bytes)' } };
    if (req.task === 'identify') return { id: req.id, identity: readSourceIdentity(bytes) };
    const output = await outputs.take();
    try {
      const result = deidentify(bytes, req.ctx, { outputBuffer: (size) => output.take(size) });
      // From the header dict where there is one (naturalizing the whole dataset for 16 values costs more than they do).
      const dict = result.header?.dict;
      const natural = dict ? null : (result.dataset as Record<string, unknown>);
      const fields = Object.fromEntries(FIELDS.map(([keyword, tag]) => [keyword, plain(dict ? dict[tag]?.Value : natural![keyword])])) as unknown as MetadataFields;
      const { blobs, thumbnails } = stores(req.storage);
      const derived = await derive(result, req.ctx, req, thumbnails);
      cpuDone();
      const sha = await blobs.put(result.output);
      return {
        id: req.id,
        deid: {
          sha256: sha, size: result.output.length, heldForPixelReview: result.heldForPixelReview, fields, transferSyntaxUid: result.transferSyntaxUid,
          ...derived,
        },
      };
    } finally {
      outputs.give(output);
    }
  } catch (e) {
    const err = e as Error & { reason?: string };
    // Only DicomParseError's reason is shown to submitters: other messages may quote file contents.
    return { id: req.id, error: err?.name === 'DicomParseError' ? { kind: 'parse', message: err.reason ?? 'unparseable' } : { kind: 'internal', message: err?.name ?? 'Error' } };
  }
}

/** The hash input moves to the main thread without a copy (when it owns its ArrayBuffer). */
function transferable(res: CpuResponse): ArrayBuffer[] {
  const d = res.deid;
  const input = d?.hashInput;
  return input && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? [input.buffer as ArrayBuffer] : [];
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
const OUTPUTS_IN_FLIGHT = 3;
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

// One task on the thread at a time (a task awaits codecs and the disk): the pool already queues
// by worker, and the reused read buffer relies on it. A task lets the next one start when it has
// only its durable write left to wait for.
let queue: Promise<unknown> = Promise.resolve();
parentPort!.on('message', (req: CpuRequest) => {
  const failed = (e: unknown): CpuResponse => ({ id: req.id, error: { kind: 'internal', message: (e as Error)?.name ?? 'Error' } });
  let cpuDone!: () => void;
  const released = new Promise<void>((resolve) => { cpuDone = resolve; });
  const turn = queue;
  queue = turn.then(() => released);
  void turn.then(() => handle(req, cpuDone)).catch(failed).then((res) => {
    cpuDone();
    // Every task gets an answer, or the pipeline would wait on it for ever.
    try { parentPort!.postMessage(res, transferable(res)); } catch (e) { parentPort!.postMessage(failed(e)); }
  });
});
