import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DicomParseError, type DeidContext, type SourceIdentity } from '../deid/index.js';
import type { FileCheckResult } from '../qc/checks.js';
import type { TagCensusJson } from '../qc/TagCensus.js';
import type { BlobStore } from '../storage/BlobStore.js';

/** The dataset attributes the archive's metadata needs, as plain values. */
export interface MetadataFields {
  StudyInstanceUID: string | null; SeriesInstanceUID: string | null; SOPInstanceUID: string | null; SOPClassUID: string | null;
  Modality: string | null; BodyPartExamined: string | null; StudyDescription: string | null; SeriesDescription: string | null;
  SeriesNumber: string | number | null; InstanceNumber: string | number | null; Rows: number | null; Columns: number | null;
  NumberOfFrames: string | number | null; BitsAllocated: number | null; StudyDate: string | null; PatientAge: string | null;
}

export type CpuTask =
  | { task: 'check'; path: string }
  | { task: 'identify'; path: string }
  | { task: 'deidentify'; path: string; ctx: DeidContext; thumbnail: boolean; hashInput: boolean; storage: WorkerStorage };
export type CpuRequest = CpuTask & { id: number };

/** Where a worker stores what it de-identifies (BlobStore.roots of the archive and of the thumbnail cache). */
export interface WorkerStorage {
  blobs: BlobStore['roots'];
  thumbnails: BlobStore['roots'];
}

/** A de-identified file, already stored (both copies, verified) by the worker. */
export interface DeidOutcome {
  sha256: string;
  size: number;
  heldForPixelReview: string | null;
  fields: MetadataFields;
  transferSyntaxUid: string | null;
  /** This file's tag census, merged into the submission's. */
  census: TagCensusJson;
  /** The PNG thumbnail in the thumbnail cache; null with the reason when none could be made. */
  thumbnailSha256: string | null;
  thumbnailError: string | null;
  /** The retrieval model's input (preprocess.ts), batched through onnxruntime by the pipeline. */
  hashInput: Float32Array | null;
  hashError: string | null;
}

export interface CpuResponse {
  id: number;
  check?: FileCheckResult;
  identity?: SourceIdentity;
  deid?: DeidOutcome;
  error?: { kind: 'missing' | 'empty' | 'parse' | 'internal'; message: string };
}

/** A failure the pipeline turns into a quarantine reason. */
export class CpuTaskError extends Error {
  constructor(readonly kind: 'missing' | 'empty' | 'internal', message: string) { super(message); }
}

/**
 * A fixed pool of worker threads (one per core by default) for the CPU-bound steps. Workers
 * are unref'd, so an idle pool never keeps a process alive.
 */
export class CpuPool {
  private workers: { worker: Worker; busy: number }[] = [];
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: CpuResponse) => void; reject: (e: Error) => void }>();

  constructor(readonly size = Math.max(1, Number(process.env.OBIA_INGEST_WORKERS) || os.availableParallelism())) {}

  private spawn(): { worker: Worker; busy: number } {
    const worker = new Worker(path.join(__dirname, 'cpuWorker.js'));
    const slot = { worker, busy: 0 };
    worker.on('message', (res: CpuResponse) => {
      const p = this.pending.get(res.id);
      this.pending.delete(res.id);
      // Referenced only while it has work: a pending task must keep the process alive, an idle pool must not.
      if (--slot.busy === 0) worker.unref();
      p?.resolve(res);
    });
    worker.on('error', (err) => {
      // A crashed worker fails its tasks (they are quarantined or retried on the next run) and is replaced.
      this.workers = this.workers.filter((w) => w !== slot);
      for (const [id, p] of this.pending) if ((p as any).slot === slot) { this.pending.delete(id); p.reject(err); }
    });
    // After the listeners: attaching a 'message' listener refs the worker again.
    worker.unref();
    this.workers.push(slot);
    return slot;
  }

  private run(req: CpuTask): Promise<CpuResponse> {
    const idle = this.workers.find((w) => w.busy === 0);
    const slot = idle ?? (this.workers.length < this.size ? this.spawn() : this.workers.reduce((a, b) => (b.busy < a.busy ? b : a)));
    const id = this.next++;
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, Object.assign({ resolve, reject }, { slot }));
      slot.worker.postMessage({ ...req, id });
    });
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

  /** De-identifies a staged file and stores the result (and its thumbnail) from the worker. */
  async deidentify(file: string, ctx: DeidContext, want: { thumbnail: boolean; hashInput: boolean; storage: WorkerStorage }): Promise<DeidOutcome> {
    return CpuPool.unwrap(await this.run({ task: 'deidentify', path: file, ctx, ...want })).deid!;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers = [];
  }
}
