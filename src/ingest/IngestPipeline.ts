import { DriverException, UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ValueTooLongError } from '../db/columnBounds.js';
import { DicomParseError } from '../deid/index.js';
import { ClinicalRecord, Submission, SubmissionFile } from '../entities/index.js';
import { SubmissionState } from '../entities/Submission.js';
import { FileState } from '../entities/SubmissionFile.js';
import { pubSub, Topic } from '../events/pubsub.js';
import { logger as rootLogger, type Logger } from '../log.js';
import { ScreenHistory, type ScreenSummary } from '../qc/screen.js';
import type { HashCatalog } from '../similarity/HashCatalog.js';
import type { BlobStore, LocalBlobStore } from '../storage/BlobStore.js';
import { CpuPool, CpuTaskError } from './cpuTasks.js';
import { OutcomeWriter } from './outcomes.js';
import { Prescreen } from './prescreen.js';
import { leaseMsFromEnv, ownerIsGone, RunLease } from './runLease.js';
import { PRODUCTS, type ProductEnv } from './products/index.js';
import { Quarantine, type Batch, type FileOutcome, type FileWork, type IngestObserver, type RunContext } from './stage.js';
import { BATCH_STAGES, screen, type PipelineDeps, type Screened } from './stages/index.js';
import type { StagingArea } from './staging.js';
import { uidKeyOf } from './uidKey.js';

export const FINAL_STATES = [FileState.INDEXED, FileState.QUARANTINED, FileState.DUPLICATE];

export interface ProcessSummary {
  submissionId: number;
  ingested: number;
  quarantined: number;
  duplicates: number;
  /** Files in a non-final state (only when a run was stopped). */
  pending: number;
  /** Clinical records whose patient no file of the submission had. */
  unmatchedClinicalRecords: number;
}

/** Files per batch, and the bytes a batch may hold (its de-identified outputs stay in memory until stored). */
const BATCH_FILES = Math.max(1, Number(process.env.OBIA_INGEST_BATCH) || 32);
const BATCH_BYTES = 64 * 1024 * 1024;
/** What a worker found in the staging area instead of the received bytes. */
const STAGED_REASONS = { empty: 'EMPTY', missing: 'STAGING_MISSING', changed: 'STAGING_CHANGED' } as const;

/**
 * The ingest pipeline: screen → identify → de-identify → store → catalogue → derive → index
 * (src/ingest/stages, one file each; the contract is in stage.ts). Each file's row is its
 * checkpoint (RECEIVED → PARSED → DEIDENTIFIED → STORED → INDEXED, or QUARANTINED /
 * DUPLICATE), every stage can be repeated (UID remapping and date offsets are deterministic,
 * blobs content-addressed, an Image row is inserted with the file's STORED mark), so after a
 * crash a re-run continues each file where its row says, running the same stages.
 *
 * Files go through in batches: the CPU halves run per file on the worker pool, each database
 * step is one statement or transaction for the whole batch, and two batches are in flight so
 * one's database work overlaps the other's worker time. Between batches the run yields to the
 * event loop (other requests go first), and `close()` lets every lane finish the batch it holds
 * and stops there: the rest stays in its recorded state for the next run.
 */
export class IngestPipeline {
  /** Emits 'progress' (submissionId) after every batch step, for the subscription. */
  readonly events = new EventEmitter();
  private readonly running = new Map<number, Promise<ProcessSummary>>();
  /** Per running submission: settles once the run has marked the submission PROCESSING. */
  private readonly started = new Map<number, Promise<unknown>>();
  /** The worker halves of the stages and products run here, several files at once. */
  readonly cpu: CpuPool;
  private readonly lanes = Math.max(1, Number(process.env.OBIA_INGEST_CONCURRENCY) || 2);
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private readonly outcomes: OutcomeWriter;
  private readonly deps: PipelineDeps;
  /** Per-file screening of files as they are staged (prescreen.ts). */
  readonly prescreen: Prescreen;
  private readonly log: Logger;
  private stopping = false;
  /** How long a run's holder may be silent before another process takes its submission over (runLease.ts). */
  private readonly leaseMs = leaseMsFromEnv();
  /** Uploads being received per submission in this process, and the event each one's end raises. */
  private readonly uploading = new Map<number, number>();
  private readonly arrivals = new EventEmitter().setMaxListeners(0);
  /** Per submission with a run: files this process recorded since the run's last screening began. */
  private readonly arrived = new Map<number, number>();
  /**
   * Where `start()` hands a run when ingest runs as jobs (src/jobs, `OBIA_JOBS=bullmq`): the hub
   * enqueues it and `npm run worker` processes run its parts through `runContext`, `planBatches`,
   * `processBatch` and `finishProducts`. Null: the run is in-process (the embedded default).
   */
  dispatcher: { start(submissionId: number): Promise<void> } | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly staging: StagingArea,
    private readonly store: BlobStore,
    secret: string,
    log: Logger = rootLogger,
    /** The thumbnail cache, or null to make no thumbnails. */
    thumbnails: LocalBlobStore | null = null,
    /** Hashes stored images for similarImages and keeps the live index current. */
    private readonly catalog: HashCatalog | null = null,
  ) {
    this.events.setMaxListeners(0);
    this.log = log.child({ component: 'ingest' });
    this.cpu = new CpuPool(undefined, this.log);
    this.outcomes = new OutcomeWriter(orm);
    this.prescreen = new Prescreen((file) => this.cpu.check(file));
    this.deps = {
      orm, cpu: this.cpu, prescreen: this.prescreen, staging, store, catalog, secret, outcomes: this.outcomes,
      storage: { blobs: store.spec, thumbnails: thumbnails?.spec ?? null },
      products: PRODUCTS.filter((p) => p.wanted({ thumbnails: !!thumbnails, hashCodes: !!catalog })),
      exclusive: (fn) => this.exclusive(fn),
      em: () => this.em(),
    };
  }

  /** QC (or anyone) is told of every quarantine and duplicate as the pipeline decides it. */
  observe(observer: IngestObserver): void {
    this.outcomes.observe(observer);
  }

  /** An upload to the submission has begun (SubmissionService.receive): a run waits for it before it ends. */
  receiving(submissionId: number): void {
    this.uploading.set(submissionId, (this.uploading.get(submissionId) ?? 0) + 1);
  }

  /**
   * An upload has ended, with the files it staged and recorded (paths relative to the staging
   * root; none when it was refused): QC's per-file checks start on the worker pool while uploads
   * continue, and screening takes their results (prescreen.ts); a run of the submission that
   * is waiting for files takes them in its next round.
   */
  received(submissionId: number, stagingPaths: readonly string[]): void {
    const left = (this.uploading.get(submissionId) ?? 1) - 1;
    if (left > 0) this.uploading.set(submissionId, left); else this.uploading.delete(submissionId);
    if (this.arrived.has(submissionId)) this.arrived.set(submissionId, this.arrived.get(submissionId)! + stagingPaths.length);
    // As jobs, screening runs in a worker process (maybe on another host) that cannot see this
    // process's results: checking here would only spend the hub's CPU on work done again there.
    if (!this.stopping && !this.dispatcher && stagingPaths.length) this.prescreen.start(stagingPaths.map((p) => this.staging.absolute(p)));
    this.arrivals.emit(String(submissionId));
  }

  /**
   * Whether the run should go another round: files arrived since its last screening, or an
   * upload to the submission is still being received here (it waits for that upload to end).
   * While uploads go on, a round waits until a batch for every lane has arrived: a round of a
   * few files pays a batch's fixed costs (statements, transactions, their fsyncs) for each few
   * files, which measured more CPU per file than the overlap saved.
   */
  private async moreArriving(submissionId: number): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      const uploading = this.uploading.get(submissionId) ?? 0;
      if (uploading === 0 || (this.arrived.get(submissionId) ?? 0) >= BATCH_FILES * this.lanes) {
        const [{ n }] = await this.em().getKnex()('submission_file').where({ submission_id: submissionId, state: FileState.RECEIVED }).count({ n: '*' });
        if (Number(n) > 0) return true;
        if (!this.uploading.get(submissionId)) return false;
      }
      await new Promise<void>((resolve) => {
        const done = () => { this.arrivals.off(String(submissionId), done); this.arrivals.off('close', done); resolve(); };
        this.arrivals.on(String(submissionId), done);
        this.arrivals.on('close', done);
      });
    }
  }

  /** Processes every unfinished file of the submission; a second call while one runs joins it. */
  process(submissionId: number, onFile?: (done: number, total: number) => void): Promise<ProcessSummary> {
    let run = this.running.get(submissionId);
    if (!run) {
      let marked!: () => void;
      const started = new Promise<void>((resolve) => { marked = resolve; });
      run = this.run(submissionId, onFile, marked).finally(() => { this.running.delete(submissionId); this.started.delete(submissionId); this.arrived.delete(submissionId); });
      this.running.set(submissionId, run);
      // A run that fails before marking the submission settles `started` too; its failure is the run's to report.
      this.started.set(submissionId, Promise.race([started, run]).catch(() => undefined));
    }
    return run;
  }

  /**
   * Starts a run (or joins the one in progress) without waiting for it: resolves once the
   * submission reads PROCESSING, so whoever asked can answer with its current state and follow
   * the rest on submissionProgress. `run` is the run itself, for whoever must log its failure.
   */
  async start(submissionId: number): Promise<{ run: Promise<ProcessSummary> }> {
    // As jobs: resolves once the submission reads PROCESSING and its run is queued; `run` is the summary then.
    if (this.dispatcher) return this.dispatcher.start(submissionId).then(() => ({ run: this.summary(submissionId) }));
    const run = this.process(submissionId);
    await this.started.get(submissionId);
    return { run };
  }

  /** Only the screen stage, over the submission's RECEIVED files (the pipeline's first stage). */
  async screen(submissionId: number): Promise<ScreenSummary> {
    const submission = await this.em().findOneOrFail(Submission, { id: submissionId });
    return (await this.screened(await this.runContext(submission))).summary;
  }

  /**
   * The screen stage, and which files it screened: a plan batches only those (a file received
   * meanwhile waits for the next run). Takes the run's context, which holds the collection's UID key.
   */
  screened(run: Pick<RunContext, 'submissionId' | 'collectionId' | 'uidKey'>): Promise<Screened> {
    return screen(run, this.deps);
  }

  /**
   * Shutdown (SIGTERM): every running lane finishes or parks the batch it holds, no new batch
   * starts, and the worker threads stop. Files not reached keep their recorded state; the next
   * processSubmission (or `npm run ingest` again) continues them.
   */
  async close(): Promise<void> {
    this.stopping = true;
    this.arrivals.emit('close');
    await Promise.allSettled(this.running.values());
    await this.cpu.close();
  }

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.exclusiveTail.then(fn);
    this.exclusiveTail = result.catch(() => undefined);
    return result;
  }

  /** Tells in-process listeners and graphql-ws subscribers (submissionProgress) that counts changed. */
  private progress(submissionId: number): void {
    this.events.emit('progress', submissionId);
    pubSub.publish(Topic.SUBMISSION_PROGRESS, String(submissionId), { submissionId: String(submissionId) });
  }

  private async run(submissionId: number, onFile?: (done: number, total: number) => void, onStarted?: () => void): Promise<ProcessSummary> {
    const lease = await this.claim(submissionId, onStarted);
    if (!lease) return this.summary(submissionId);
    onStarted?.();
    // Subscribers learn of the new run before screening's first step ends.
    this.progress(submissionId);
    try {
      const submission = await this.em().findOneOrFail(Submission, { id: submissionId });
      const run = await this.runContext(submission);
      // A run started while files are still being uploaded (processSubmission right after the
      // first files, as `npm run bench:ingest` does) processes them as they come, in rounds: each
      // round screens the files received since the last one (cross-file checks also see the
      // earlier rounds' files: ScreenHistory) and batches only those it screened, so no file
      // skips screening. The run ends when no file is waiting and no upload to the submission is
      // being received by this process.
      const history = new ScreenHistory();
      // Shutdown, or another process took the submission over (this one was silent for a lease).
      const halted = () => this.stopping || lease.lost;
      let total = 0;
      let done = 0;
      let parked = 0;
      do {
        this.arrived.set(submissionId, 0);
        const screened = await screen(run, this.deps, history);
        this.progress(submissionId);

        const batches = await this.planBatches(submissionId, screened.seen);
        total += batches.reduce((n, b) => n + b.length, 0);
        let next = 0;
        await Promise.all(Array.from({ length: Math.min(batches.length, this.lanes) }, async () => {
          while (next < batches.length && !halted()) {
            const ids = batches[next++]!;
            await this.processBatch(ids, run);
            done += ids.length;
            onFile?.(done, total);
            // Let requests waiting on the event loop go first: a long run must not starve the API.
            await yieldToEventLoop();
          }
        }));
        parked = batches.slice(next).reduce((n, b) => n + b.length, 0);
      } while (!halted() && (await this.moreArriving(submissionId)));
      if (lease.lost) {
        run.log.warn('another process took this submission\'s run over (this one was silent for a lease): stopped after the batch in hand');
        lease.abandon();
        return this.summary(submissionId);
      }
      await this.finishProducts(run);
      // Stopped (shutdown): files not reached, or received after the last round's screening, wait
      // for the next run; a run whose every file was done when the stop came is over all the same.
      const left = this.stopping ? parked || (await this.summary(submissionId)).pending : 0;
      if (left > 0) {
        run.log.info({ parked: left }, 'run stopped between batches; the rest resumes on the next run');
        // Still PROCESSING, and free: the next run, in any process, claims it at once.
        await lease.release(null);
      } else {
        // PROCESSED is written last, after every product's finish (the tag census): a client
        // following submissionProgress takes it as "the run is over".
        await lease.release(SubmissionState.PROCESSED);
      }
      this.progress(submissionId);
    } catch (err) {
      // A run that fails (the database went away, a bug) must not leave the submission PROCESSING
      // for ever: it is open again, subscribers are told, and the next processSubmission resumes it.
      await lease.release(SubmissionState.OPEN).catch(() => lease.abandon());
      this.progress(submissionId);
      throw err;
    }
    return this.summary(submissionId);
  }

  /**
   * Claims the submission for a run in this process (runLease.ts). While a live run in another
   * process holds it, waits for that run to end or fall silent for a lease, and reports the
   * submission started meanwhile (it reads PROCESSING). Null when there is nothing left to do:
   * the other run ended with every file done, or this process is stopping.
   */
  private async claim(submissionId: number, onStarted?: () => void): Promise<RunLease | null> {
    let waited = false;
    const read = () => this.em().findOneOrFail(Submission, { id: submissionId }, { fields: ['state', 'runOwner', 'runHeartbeatAt'] });
    for (;;) {
      if (waited) {
        // The run waited for has ended with every file done: nothing is left for this one (a run
        // of nothing would only turn the submission PROCESSING and PROCESSED again).
        const now = await read();
        if (now.runOwner == null && now.state === SubmissionState.PROCESSED && (await this.summary(submissionId)).pending === 0) return null;
      }
      const lease = await RunLease.claim(() => this.em(), submissionId, this.leaseMs);
      if (lease) return lease;
      // Not claimed: the submission does not exist (NotFound, as before), or a run holds it.
      const held = await read();
      if (held.runOwner == null) continue; // freed between the claim and this read
      // Its holder was a process on this machine that has ended (killed mid-run): taken over now.
      if (ownerIsGone(held.runOwner)) {
        const taken = await RunLease.claim(() => this.em(), submissionId, this.leaseMs, held.runOwner);
        if (taken) return taken;
        continue;
      }
      if (this.stopping) return null;
      if (!waited) {
        this.log.info({ submission: submissionId }, 'a run of this submission is under way in another process: waiting for it to end');
        onStarted?.();
        waited = true;
      }
      // Until the holder's lease could run out, looking again a few times meanwhile (it may end sooner).
      const expiresIn = (held.runHeartbeatAt?.getTime() ?? 0) + this.leaseMs - Date.now();
      await this.pause(Math.min(Math.max(expiresIn + 1, 1), Math.max(50, Math.floor(this.leaseMs / 4))));
    }
  }

  /** Waits `ms`, or less when this pipeline closes. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); this.arrivals.off('close', done); resolve(); };
      const timer = setTimeout(done, ms);
      this.arrivals.on('close', done);
    });
  }

  /** What a run of the submission shares (a job of a distributed run builds its own: `individuals` is a cache, the rest is read). */
  async runContext(submission: Submission): Promise<RunContext> {
    return {
      submissionId: submission.id, collectionId: submission.collection.id, disease: submission.disease,
      uidKey: await uidKeyOf(this.em(), submission.collection.id, this.deps.secret),
      options: submission.deidOptions, individuals: new Map(), accumulated: new Map(),
      log: this.log.child({ submission: submission.id }), em: () => this.em(),
    };
  }

  /**
   * The submission's unfinished files in batches (by count and bytes), in the order received.
   * With `screened` (the RECEIVED files the run's screening saw), a file received after that
   * screening is left for the next round: it must be screened before it is processed.
   */
  async planBatches(submissionId: number, screened?: ReadonlySet<number>): Promise<number[][]> {
    const pending = await this.em().find(SubmissionFile, { submission: submissionId, state: { $nin: FINAL_STATES } }, { fields: ['id', 'size', 'state'], orderBy: { id: 'asc' } });
    const batches: number[][] = [];
    let bytes = 0;
    for (const f of pending) {
      if (screened && f.state === FileState.RECEIVED && !screened.has(f.id)) continue;
      const last = batches.at(-1);
      if (!last || last.length >= BATCH_FILES || bytes + Number(f.size ?? 0) > BATCH_BYTES) { batches.push([f.id]); bytes = 0; } else last.push(f.id);
      bytes += Number(f.size ?? 0);
    }
    return batches;
  }

  /** Every product's end-of-run step (the tag census), once the run's batches are done; what each did, by product. */
  async finishProducts(run: RunContext): Promise<Record<string, Record<string, number>>> {
    const env: ProductEnv = { run, catalog: this.catalog, store: this.store };
    const done: Record<string, Record<string, number>> = {};
    for (const p of this.deps.products) {
      const stats = await p.finish?.(env);
      if (stats) done[p.name] = stats;
    }
    return done;
  }

  /** Ingest as jobs: what the products accumulated in this batch job's run, as JSON for the finish job. */
  partials(run: RunContext): Record<string, unknown> {
    const env: ProductEnv = { run, catalog: this.catalog, store: this.store };
    const out: Record<string, unknown> = {};
    for (const p of this.deps.products) {
      const value = p.partial?.(env);
      if (value !== undefined) out[p.name] = value;
    }
    return out;
  }

  /** Ingest as jobs: the finish job takes a batch job's `partials` into its run before `finishProducts`. */
  absorbPartials(run: RunContext, partials: Record<string, unknown>): void {
    const env: ProductEnv = { run, catalog: this.catalog, store: this.store };
    for (const p of this.deps.products) if (partials[p.name] !== undefined) p.absorb?.(partials[p.name], env);
  }

  /** Tells subscribers on every replica that the submission's counts changed (a job's steps). */
  announce(submissionId: number): void {
    this.progress(submissionId);
  }

  async summary(submissionId: number): Promise<ProcessSummary> {
    const em = this.em();
    const rows: { state: FileState; n: number }[] = await em.getKnex()('submission_file')
      .where({ submission_id: submissionId }).groupBy('state').select('state').count({ n: '*' });
    const n = (s: FileState) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    const unmatched = await em.count(ClinicalRecord, { submission: submissionId, applied: false });
    return {
      submissionId,
      ingested: n(FileState.INDEXED) + n(FileState.STORED),
      quarantined: n(FileState.QUARANTINED),
      duplicates: n(FileState.DUPLICATE),
      pending: rows.filter((r) => !FINAL_STATES.includes(r.state)).reduce((s, r) => s + Number(r.n), 0),
      unmatchedClinicalRecords: unmatched,
    };
  }

  /** One batch through every stage; files already in a final state are skipped (a retried job repeats nothing done). */
  async processBatch(ids: number[], run: RunContext): Promise<void> {
    const files = await this.em().find(SubmissionFile, { id: { $in: ids } }, { orderBy: { id: 'asc' } });
    const failed = new Map<number, FileOutcome>();
    const batch: Batch = {
      run,
      works: files.map((file): FileWork => ({ file })),
      live: (w) => !failed.has(w.file.id) && !FINAL_STATES.includes(w.file.state),
      fail: (w, outcome) => {
        const fileId = typeof w === 'number' ? w : w.file.id;
        failed.set(fileId, { fileId, ...this.outcomeOf(fileId, outcome, run.log) });
      },
    };
    for (const stage of BATCH_STAGES) {
      await stage.run(batch, this.deps);
      this.progress(run.submissionId);
    }
    await this.outcomes.write(run, [...failed.values()]);
    this.progress(run.submissionId);
  }

  /** A file's outcome from what a stage decided or threw; database failures other than a lost race end the run. */
  private outcomeOf(fileId: number, err: unknown, log: Logger): Omit<FileOutcome, 'fileId'> {
    if (err && typeof err === 'object' && 'kind' in err && 'reason' in err && 'message' in err && !(err instanceof Error)) return err as Omit<FileOutcome, 'fileId'>;
    if (err instanceof DriverException && !(err instanceof UniqueConstraintViolationException)) throw err;
    if (err instanceof Quarantine) return { kind: 'QUARANTINED', reason: err.reason, message: err.message };
    if (err instanceof ValueTooLongError) return { kind: 'QUARANTINED', reason: 'VALUE_TOO_LONG', message: err.message };
    if (err instanceof DicomParseError) return { kind: 'QUARANTINED', reason: 'PARSE_ERROR', message: err.reason };
    if (err instanceof CpuTaskError && (err.kind === 'empty' || err.kind === 'missing' || err.kind === 'changed')) {
      return { kind: 'QUARANTINED', reason: STAGED_REASONS[err.kind], message: err.message };
    }
    if (err instanceof CpuTaskError && err.kind === 'died') {
      log.error({ file: fileId }, 'file quarantined: its worker thread died twice');
      return { kind: 'QUARANTINED', reason: 'PROCESSING_ERROR', message: err.message };
    }
    // Unexpected errors are quarantined by kind only: their messages may quote file contents.
    log.error({ file: fileId, err: { type: (err as Error)?.name ?? typeof err } }, 'file quarantined after an unexpected error');
    return { kind: 'QUARANTINED', reason: 'PROCESSING_ERROR', message: `processing failed (${(err as Error)?.name ?? 'error'})` };
  }
}
