import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { DicomParseError, type DeidContext, type SourceIdentity } from '../deid/index.js';
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

export type CpuTask =
  | { task: 'check'; path: string }
  | { task: 'identify'; path: string }
  /** de-identify → store (both copies) → the products' worker halves, in one visit to the file. */
  | { task: 'deidentify'; path: string; ctx: DeidContext; products: string[]; storage: WorkerStorage }
  /** The products' worker halves over a file already archived (a run stopped after STORED). */
  | { task: 'derive'; sha256: string; options: DeidContext['options']; products: string[]; storage: WorkerStorage };

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
  error?: { kind: 'missing' | 'empty' | 'parse' | 'internal'; message: string };
}

/** A failure the pipeline turns into a quarantine reason. */
export class CpuTaskError extends Error {
  constructor(readonly kind: 'missing' | 'empty' | 'internal' | 'died', message: string) { super(message); this.name = 'CpuTaskError'; }
}

/**
 * The worker pool for the CPU-bound halves of the stages (piscina): one shared queue, so a slow
 * file never holds back the files queued behind it on another thread; a worker that dies is
 * replaced by piscina and its task is retried once on another (logged), then fails visibly as
 * the file's quarantine; `close()` aborts what is queued (shutdown). Idle workers do not keep
 * the process alive.
 */
export class CpuPool {
  private readonly pool: Piscina;
  private readonly log: Logger;

  constructor(
    readonly size = Math.max(1, Number(process.env.OBIA_INGEST_WORKERS) || os.availableParallelism()),
    log: Logger = logger,
    /** The worker module (a test gives one that dies, to prove a dead worker's task is not lost). */
    filename = path.join(__dirname, 'cpuWorker.js'),
  ) {
    this.log = log.child({ component: 'cpu-pool' });
    this.pool = new Piscina({
      filename,
      minThreads: 0,
      maxThreads: size,
      // Workers start in ~100 ms and hold the codecs they loaded: keep them for the next batch.
      idleTimeout: 30_000,
      // A task hands its thread on while its durable write is in flight (cpuWorker.ts).
      concurrentTasksPerWorker: 1 + Math.max(1, Number(process.env.OBIA_INGEST_WRITES_PER_WORKER) || 3),
    });
    // Errors outside any task (a worker dying while idle): logged, the pool replaces the worker.
    this.pool.on('error', (err) => this.log.error({ err }, 'worker thread failed outside a task'));
  }

  private async run(req: CpuTask): Promise<CpuResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.run(req)) as CpuResponse;
      } catch (err) {
        // The worker's own failures come back as `error` responses; a rejection means the thread
        // died (out of memory, a native crash) or the pool was closed.
        if (this.closed) throw new CpuTaskError('internal', 'the worker pool was closed (shutdown)');
        if (attempt >= 2) throw new CpuTaskError('died', 'the worker thread processing this file died twice');
        this.log.warn({ err, task: req.task }, 'a worker thread died; its task is retried once on another');
      }
    }
  }

  private static unwrap(res: CpuResponse): CpuResponse {
    if (!res.error) return res;
    if (res.error.kind === 'parse') throw new DicomParseError(res.error.message);
    throw new CpuTaskError(res.error.kind, res.error.message);
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
  async deidentify(file: string, ctx: DeidContext, products: string[], storage: WorkerStorage): Promise<DeidOutcome> {
    return CpuPool.unwrap(await this.run({ task: 'deidentify', path: file, ctx, products, storage })).deid!;
  }

  /** The products' worker halves over an archived file. */
  async derive(sha256: string, options: DeidContext['options'], products: string[], storage: WorkerStorage): Promise<Record<string, ProductResult>> {
    return CpuPool.unwrap(await this.run({ task: 'derive', sha256, options, products, storage })).products!;
  }

  private closed = false;

  /** Aborts queued and running tasks (their promises reject) and stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
