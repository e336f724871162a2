import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { DicomParseError, type DeidContext, type SourceIdentity } from '../deid/index.js';
import { decodeLimits, type DecodeLimits } from '../imaging/limits.js';
import { logger, type Logger } from '../log.js';
import type { FileCheckResult } from '../qc/checks.js';
import type { BlobStoreSpec } from '../storage/store.js';
import type { ProductResult } from './products/index.js';

/** The dataset attributes the archive's catalogue needs, as plain values (src/dicom's `scalar`). */
export interface MetadataFields {
  StudyInstanceUID: string | null; SeriesInstanceUID: string | null; SOPInstanceUID: string | null; SOPClassUID: string | null;
  Modality: string | null; BodyPartExamined: string | null; StudyDescription: string | null; SeriesDescription: string | null;
  SeriesNumber: string | number | null; InstanceNumber: string | number | null; Rows: number | null; Columns: number | null;
  NumberOfFrames: string | number | null; BitsAllocated: number | null; StudyDate: string | null; PatientAge: string | null;
}

/** Where a worker stores what it de-identifies: the archive's store and the (local) thumbnail cache, null when none is kept. */
export interface WorkerStorage {
  blobs: BlobStoreSpec;
  thumbnails: Extract<BlobStoreSpec, { kind: 'local' }> | null;
}

/**
 * What the worker halves would otherwise read from their own thread's environment or settings,
 * sent with every task: the threads are shared by the process's pipelines (sharedPool) and were
 * started with the environment of an earlier moment.
 */
export interface WorkerSettings {
  /** OBIA_BURNED_IN_TIMEOUT_MS and OBIA_BURNED_IN_SCAN as they were when the pipeline started (checked where they are used). */
  env: { OBIA_BURNED_IN_TIMEOUT_MS?: string; OBIA_BURNED_IN_SCAN?: string };
  /** The main thread's decoding bounds (src/imaging/limits.ts), so the workers enforce the same. */
  decodeLimits: DecodeLimits;
}

/** What a pipeline asks of the pool. */
export type CpuRequest =
  | { task: 'check'; path: string }
  | { task: 'identify'; path: string }
  /**
   * de-identify → store (both copies) → the products' worker halves, in one visit to the file;
   * `sha256` is the received bytes' hash, checked before they are used.
   */
  | { task: 'deidentify'; path: string; sha256: string; ctx: DeidContext; products: string[]; storage: WorkerStorage }
  /** The products' worker halves over a file already archived (a run stopped after STORED). */
  | { task: 'derive'; sha256: string; options: DeidContext['options']; products: string[]; storage: WorkerStorage };

/**
 * What a worker receives: the request, the settings of the pipeline that sent it, and that
 * pipeline's closed flag (an Int32Array over shared memory: 1 once close() was called). A task
 * that reaches a thread after its pipeline closed answers `closed` at once (closedTask.ts).
 */
export type CpuTask = CpuRequest & { settings: WorkerSettings; closed: Int32Array };

/** A de-identified file, already stored (both copies, verified) by the worker. */
export interface DeidOutcome {
  sha256: string;
  size: number;
  heldForPixelReview: string | null;
  fields: MetadataFields;
  transferSyntaxUid: string | null;
  /** Each wanted product's worker half: its value, or why it is missing. */
  products: Record<string, ProductResult>;
}

export interface CpuResponse {
  check?: FileCheckResult;
  identity?: SourceIdentity;
  deid?: DeidOutcome;
  products?: Record<string, ProductResult>;
  error?: { kind: 'missing' | 'changed' | 'empty' | 'parse' | 'internal' | 'closed'; message: string };
}

/** A failure the pipeline turns into a quarantine reason. */
export class CpuTaskError extends Error {
  constructor(readonly kind: 'missing' | 'changed' | 'empty' | 'internal' | 'died', message: string) { super(message); this.name = 'CpuTaskError'; }
}

/**
 * The process's piscina pools, one per worker module and size, shared by every CpuPool. A worker
 * thread costs ≈ 0.23 CPU-s to start (it loads dcmjs, the codecs, the de-identification rules:
 * a pool of two that ran one task on each took 0.46 CPU-s). A process that opens several
 * archives paid that for each one's pipeline: the test kit builds an app per test file or test,
 * and started 113 worker threads for the 93 tests of test/ingest. Shared, the threads outlive a
 * pipeline by `idleTimeout` and the next pipeline finds them warm. Idle, they do not keep the
 * process alive (piscina unrefs an idle worker).
 */
const shared = new Map<string, Piscina>();

function sharedPool(filename: string, size: number): Piscina {
  const key = `${size}:${filename}`;
  let pool = shared.get(key);
  if (!pool) {
    pool = new Piscina({
      filename,
      minThreads: 0,
      maxThreads: size,
      // Workers start in ~100 ms and hold the codecs they loaded: keep them for the next batch.
      idleTimeout: 30_000,
      // A task hands its thread on while its durable write is in flight (cpuWorker.ts).
      concurrentTasksPerWorker: 1 + Math.max(1, Number(process.env.OBIA_INGEST_WRITES_PER_WORKER) || 3),
    });
    // Errors outside any task (a worker dying while idle): logged, the pool replaces the worker.
    pool.on('error', (err) => logger.error({ err, component: 'cpu-pool' }, 'worker thread failed outside a task'));
    shared.set(key, pool);
  }
  return pool;
}

/**
 * A pipeline's handle on the worker pool for the CPU-bound halves of the stages (piscina, shared
 * by the process's pipelines: sharedPool): one shared queue, so a slow file never holds back the
 * files queued behind it on another thread; a worker that dies is replaced by piscina and its
 * task is retried once on another (logged), then fails visibly as the file's quarantine;
 * `close()` (shutdown) fails what this handle has queued and lets what is running finish.
 *
 * close() does not use piscina's per-task AbortSignal: aborting a running task terminates its
 * thread, and with it other pipelines' tasks sharing that thread (piscinajs/piscina#934); with
 * minThreads 0 no thread replaces it, so tasks still queued behind it waited for a run() that
 * might never come (the test process exited with them pending; compare piscinajs/piscina#805).
 * Instead every task carries its handle's closed flag in shared memory, and a worker that picks
 * up a task of a closed handle answers `closed` without touching the file. A running task is
 * bounded work (decoding limits, the OCR time limit) and finishes: its file is then stored whole.
 */
export class CpuPool {
  private readonly pool: Piscina;
  private readonly log: Logger;
  /** Set to 1 by close(); read by the worker when it takes one of this handle's tasks (closedTask.ts). */
  private readonly closedFlag = new Int32Array(new SharedArrayBuffer(4));
  /** The environment the worker halves read, as it was when this pipeline started (WorkerSettings). */
  private readonly env: WorkerSettings['env'] = { OBIA_BURNED_IN_TIMEOUT_MS: process.env.OBIA_BURNED_IN_TIMEOUT_MS, OBIA_BURNED_IN_SCAN: process.env.OBIA_BURNED_IN_SCAN };
  /** This handle's tasks in flight, so close() returns once each has settled. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly size = Math.max(1, Number(process.env.OBIA_INGEST_WORKERS) || os.availableParallelism()),
    log: Logger = logger,
    /** The worker module (a test gives one that dies, to prove a dead worker's task is not lost). */
    filename = path.join(__dirname, 'cpuWorker.js'),
  ) {
    this.log = log.child({ component: 'cpu-pool' });
    this.pool = sharedPool(filename, size);
  }

  private async run(req: CpuRequest): Promise<CpuResponse> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new CpuTaskError('internal', 'the worker pool was closed (shutdown)');
      const task = this.pool.run({ ...req, settings: { env: this.env, decodeLimits: decodeLimits() }, closed: this.closedFlag } satisfies CpuTask) as Promise<CpuResponse>;
      this.inFlight.add(task);
      try {
        return await task;
      } catch (err) {
        // The worker's own failures come back as `error` responses; a rejection means the thread
        // died (out of memory, a native crash).
        if (this.closed) throw new CpuTaskError('internal', 'the worker pool was closed (shutdown)');
        if (attempt >= 2) throw new CpuTaskError('died', 'the worker thread processing this file died twice');
        this.log.warn({ err, task: req.task }, 'a worker thread died; its task is retried once on another');
      } finally {
        this.inFlight.delete(task);
      }
    }
  }

  private static unwrap(res: CpuResponse): CpuResponse {
    if (!res.error) return res;
    if (res.error.kind === 'parse') throw new DicomParseError(res.error.message);
    throw new CpuTaskError(res.error.kind === 'closed' ? 'internal' : res.error.kind, res.error.message);
  }

  /** QC's per-file checks (qc/checks.ts) of a received file; null when its staged bytes are gone. */
  async check(file: string): Promise<FileCheckResult | null> {
    const res = await this.run({ task: 'check', path: file });
    if (res.error?.kind === 'missing') return null;
    return CpuPool.unwrap(res).check!;
  }

  async identify(file: string): Promise<SourceIdentity> {
    return CpuPool.unwrap(await this.run({ task: 'identify', path: file })).identity!;
  }

  /** De-identifies a staged file, stores the result and runs the products' worker halves on it. */
  async deidentify(file: string, sha256: string, ctx: DeidContext, products: string[], storage: WorkerStorage): Promise<DeidOutcome> {
    return CpuPool.unwrap(await this.run({ task: 'deidentify', path: file, sha256, ctx, products, storage })).deid!;
  }

  /** The products' worker halves over an archived file. */
  async derive(sha256: string, options: DeidContext['options'], products: string[], storage: WorkerStorage): Promise<Record<string, ProductResult>> {
    return CpuPool.unwrap(await this.run({ task: 'derive', sha256, options, products, storage })).products!;
  }

  /** close() was called: the flag the workers read is the one record of it. */
  private get closed(): boolean {
    return Atomics.load(this.closedFlag, 0) === 1;
  }

  /**
   * Fails this handle's queued tasks (a worker answers `closed` as it takes each, in microseconds)
   * and waits for its running ones to finish. The threads stay for the process's other pipelines
   * until idle.
   */
  async close(): Promise<void> {
    Atomics.store(this.closedFlag, 0, 1);
    // A worker half waiting on the flag (the pool test's) wakes.
    Atomics.notify(this.closedFlag, 0);
    await Promise.allSettled([...this.inFlight]);
  }
}
