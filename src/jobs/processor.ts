import type { MikroORM } from '@mikro-orm/core';
import { FlowProducer, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Submission, SubmissionState } from '../entities/Submission.js';
import { SubmissionFile } from '../entities/SubmissionFile.js';
import type { IngestPipeline } from '../ingest/IngestPipeline.js';
import type { Logger } from '../log.js';
import { finishJobId, JOB_OPTIONS, QUEUE_NAME, queueSettings, type IngestJobData, type IngestJobResult } from './queue.js';

export interface IngestWorkerOptions {
  redisUrl: string;
  /** Jobs in flight in this process (batches overlap their database and worker-thread time). */
  concurrency: number;
  /** See Config.jobs.lockMs. */
  lockMs: number;
  log: Logger;
  /** Told when a job starts (tests pick the moment to kill a worker by it, not by a timer). */
  onActive?: (job: { id: string; name: string; fileIds: number[] }) => void;
  /** Told when a job completed here (with what a finish job's products did). */
  onCompleted?: (job: { id: string; name: string; products?: IngestJobResult['products'] }) => void;
}

/**
 * The worker's side of src/jobs/queue.ts: takes plan, batch and finish jobs and runs them with the
 * same pipeline the embedded mode uses (IngestPipeline's `runContext`, `planBatches`,
 * `processBatch`, `finishProducts`).
 */
export class IngestWorker {
  private readonly worker: Worker<IngestJobData, IngestJobResult>;
  private readonly queue: Queue<IngestJobData, IngestJobResult>;
  private readonly flows: FlowProducer;

  constructor(private readonly orm: MikroORM, private readonly pipeline: IngestPipeline, private readonly options: IngestWorkerOptions) {
    const settings = queueSettings(options.redisUrl);
    this.queue = new Queue(QUEUE_NAME, settings);
    this.flows = new FlowProducer(settings);
    this.worker = new Worker<IngestJobData, IngestJobResult>(QUEUE_NAME, (job) => this.process(job), {
      ...settings,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      // A killed worker's job is noticed within one interval after its lock lapses.
      stalledInterval: options.lockMs,
      // A job stalls only when its worker dies; several deaths in a row still do not lose it.
      maxStalledCount: 5,
    });
    this.worker.on('completed', (job, result) => options.onCompleted?.({ id: job.id!, name: job.name, ...(result?.products ? { products: result.products } : {}) }));
    this.worker.on('failed', (job, err) => void this.failed(job, err));
    this.worker.on('error', (err) => options.log.warn({ err }, 'job worker error'));
  }

  waitUntilReady(): Promise<unknown> {
    return Promise.all([this.worker.waitUntilReady(), this.queue.waitUntilReady()]);
  }

  /** Lets the jobs in hand finish (SIGTERM), takes no new ones, and disconnects. */
  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([this.flows.close(), this.queue.close()]);
  }

  private async process(job: Job<IngestJobData, IngestJobResult>): Promise<IngestJobResult> {
    const { submissionId, fileIds: asked } = checkedJobData(job.name, job.data);
    let fileIds = asked;
    this.options.onActive?.({ id: job.id!, name: job.name, fileIds });
    const submission = await this.orm.em.fork().findOneOrFail(Submission, { id: submissionId });
    if (job.name === 'batch') {
      // processBatch takes ids as given: a batch naming another submission's files would run them
      // under this submission's run (its collection, its counts). Only this submission's files.
      const own = await this.orm.em.fork().find(SubmissionFile, { id: { $in: fileIds }, submission: submissionId }, { fields: ['id'] });
      if (own.length < fileIds.length) this.options.log.warn({ job: job.id, submission: submissionId, dropped: fileIds.length - own.length }, 'batch job named files of no such submission: skipped');
      fileIds = own.map((f) => f.id).sort((a, b) => a - b);
    }
    const run = await this.pipeline.runContext(submission);
    switch (job.name) {
      case 'plan': {
        // Only files this screening saw are batched: one received meanwhile is not processed unscreened.
        const { seen } = await this.pipeline.screened(run);
        this.pipeline.announce(submissionId);
        // A retried plan whose flow was already added (it died after adding it) adds nothing twice.
        if (await this.queue.getJob(finishJobId(submissionId))) return { kind: 'plan', files: 0 };
        const batches = await this.pipeline.planBatches(submissionId, seen);
        // Children are named by this plan and their first file: unique per run, so none is taken for a done one.
        await this.flows.add({
          name: 'finish', queueName: QUEUE_NAME, data: { submissionId }, opts: { ...JOB_OPTIONS, jobId: finishJobId(submissionId) },
          children: batches.map((ids) => ({
            name: 'batch', queueName: QUEUE_NAME, data: { submissionId, fileIds: ids },
            // A batch that fails for good still lets `finish` run (it leaves the submission OPEN, its files pending).
            opts: { ...JOB_OPTIONS, removeOnFail: { count: 1000 }, ignoreDependencyOnFailure: true, jobId: `s${submissionId}-r${job.timestamp}-b${ids[0]}` },
          })),
        });
        return { kind: 'plan', files: batches.reduce((n, b) => n + b.length, 0) };
      }
      case 'batch':
        await this.pipeline.processBatch(fileIds, run);
        return { kind: 'batch', files: fileIds.length, partials: this.pipeline.partials(run) };
      case 'finish': {
        const started = Date.now();
        // The batches' census of the files they stored (the flow keeps children's results, also
        // of children removed on completion); only files whose batch died before returning are
        // read back from the blob store by finishProducts.
        let batches = 0;
        for (const result of Object.values(await job.getChildrenValues<IngestJobResult>())) {
          if (result?.partials) { this.pipeline.absorbPartials(run, result.partials); batches++; }
        }
        const products = await this.pipeline.finishProducts(run);
        run.log.info({ batches, products, ms: Date.now() - started }, 'run finished');
        const { pending } = await this.pipeline.summary(submissionId);
        // PROCESSED last, as in-process: subscribers take it as "the run is over".
        await this.orm.em.fork().nativeUpdate(Submission, { id: submissionId }, { state: pending === 0 ? SubmissionState.PROCESSED : SubmissionState.OPEN });
        if (pending > 0) run.log.warn({ pending }, 'run ended with files pending (a batch failed for good); the next processSubmission resumes them');
        this.pipeline.announce(submissionId);
        return { kind: 'finish', files: 0, products };
      }
      default:
        throw new UnrecoverableError('unknown ingest job kind');
    }
  }

  /** A plan or finish that fails for good must not leave the submission PROCESSING for ever (as in-process). */
  private async failed(job: Job<IngestJobData, IngestJobResult> | undefined, err: Error): Promise<void> {
    if (!job) return;
    // Called as an event handler (nobody awaits it): it must not throw, whatever the job holds.
    try {
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      this.options.log.error({ err, job: job.id, attempts: job.attemptsMade }, final ? 'ingest job failed for good' : 'ingest job failed; retried');
      if (!final || job.name === 'batch' || !validSubmissionId((job.data as { submissionId?: unknown } | null)?.submissionId)) return;
      await this.orm.em.fork().nativeUpdate(Submission, { id: job.data.submissionId }, { state: SubmissionState.OPEN }).catch(() => undefined);
      this.pipeline.announce(job.data.submissionId);
    } catch (failure) {
      this.options.log.error({ err: failure, job: job.id }, 'handling a failed ingest job failed');
    }
  }
}

/** Files one batch job may name: planBatches cuts OBIA_INGEST_BATCH (32 by default) per job. */
export const MAX_BATCH_FILES = 10_000;

function validSubmissionId(id: unknown): id is number {
  return Number.isSafeInteger(id) && (id as number) > 0;
}

/**
 * A job's data as the queue's own producers write it. Anything else (a job added to the queue by
 * hand or by another program: null data, a string id, an object of ids, a million file ids, a name
 * no producer uses) fails at once as unrecoverable, not retried five times, and never reaches the
 * database or the pipeline. Before, `null` data threw inside the failure handler too, a promise
 * nobody awaited: under Node's default that ended the worker, and the queue gave the job to the next.
 */
export function checkedJobData(name: string, data: unknown): { submissionId: number; fileIds: number[] } {
  if (name !== 'plan' && name !== 'batch' && name !== 'finish') throw new UnrecoverableError('unknown ingest job kind');
  const d = data && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : null;
  if (!d || !validSubmissionId(d.submissionId)) throw new UnrecoverableError('ingest job data: "submissionId" must be a positive integer');
  const ids = d.fileIds ?? [];
  if (!Array.isArray(ids) || ids.length > MAX_BATCH_FILES || !ids.every(validSubmissionId)) {
    throw new UnrecoverableError(`ingest job data: "fileIds" must be a list of at most ${MAX_BATCH_FILES} positive integers`);
  }
  if (name === 'batch' && ids.length === 0) throw new UnrecoverableError('ingest job data: a batch names its files');
  return { submissionId: d.submissionId as number, fileIds: [...new Set(ids as number[])] };
}
