import type { MikroORM } from '@mikro-orm/core';
import { Queue, QueueEvents, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Submission, SubmissionState } from '../entities/Submission.js';
import type { IngestPipeline } from '../ingest/IngestPipeline.js';
import { logger } from '../log.js';

/**
 * Ingest as jobs (issue 18) on one BullMQ queue in Redis. A run of a submission is three kinds
 * of job, all idempotent because the files' rows are the truth (a stage continues a file from the
 * state its row records and skips one that is final):
 *
 *   plan   (one per run)     screen the RECEIVED files, cut the unfinished ones into batches and
 *                            add a flow: `finish` waiting on one `batch` child per batch;
 *   batch  (the grain)       one batch of files through identify → … → index;
 *   finish (once, at the end) the products' end-of-run step (tag census, merged from the batches'
 *                            results), then PROCESSED when no file is left pending (else OPEN
 *                            again, like a failed in-process run).
 *
 * A worker killed mid-job stops renewing its lock; BullMQ's stalled-job check gives the job to
 * another worker, which repeats the batch: done files are skipped, the rest resume.
 */
export const QUEUE_NAME = 'ingest';

export type IngestJobData = { submissionId: number; fileIds?: number[] };
/**
 * What a job returns (QueueEvents carry it to every hub's /metrics). A batch's `partials` are its
 * products' accumulators (the tag census of its files): the flow keeps them for the finish job,
 * which merges them instead of reading every stored file back.
 */
export interface IngestJobResult {
  kind: 'plan' | 'batch' | 'finish';
  files: number;
  partials?: Record<string, unknown>;
  /** A finish job's products' end-of-run counts (the census: files counted from the batches' results, files read back). */
  products?: Record<string, Record<string, number>>;
}

/** The same queue for hubs and workers: keys under the archive's Redis prefix, not BullMQ's `bull:`. */
export function queueSettings(redisUrl: string): { connection: ConnectionOptions; prefix: string } {
  const url = new URL(redisUrl);
  const connection: ConnectionOptions = {
    host: url.hostname, port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    // BullMQ's workers block on Redis; it wants commands retried for ever, not failed after 20 tries.
    maxRetriesPerRequest: null,
  };
  return { connection, prefix: (process.env.OBIA_REDIS_PREFIX ?? 'obia:').replace(/:+$/, '') || 'obia' };
}

/** Retried with backoff; done jobs removed (their effect is in the database), so a later run may reuse an id. */
export const JOB_OPTIONS: JobsOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: true };

/** One plan per submission at a time (a second processSubmission while it is queued joins it). */
export const planJobId = (submissionId: number) => `s${submissionId}-plan`;
/** One finish per submission at a time: while it waits on its batches, a new run joins this one. */
export const finishJobId = (submissionId: number) => `s${submissionId}-finish`;

/** The hub's side: starts runs by enqueuing them, and reports the queue to /metrics. */
export class IngestJobs {
  readonly queue: Queue<IngestJobData, IngestJobResult>;
  readonly events: QueueEvents;

  private constructor(redisUrl: string, private readonly orm: MikroORM, private readonly pipeline: IngestPipeline) {
    const settings = queueSettings(redisUrl);
    this.queue = new Queue(QUEUE_NAME, { ...settings, defaultJobOptions: JOB_OPTIONS });
    this.events = new QueueEvents(QUEUE_NAME, settings);
    // BullMQ reports a lost connection as an 'error' event (QueueEvents' reading loop, too), and an
    // EventEmitter with no 'error' listener throws it: unhandled, it would end the hub while Redis is away.
    const log = logger.child({ component: 'jobs' });
    this.queue.on('error', (err) => log.warn({ err }, 'job queue error'));
    this.events.on('error', (err) => log.warn({ err }, 'job events error'));
  }

  /** Connects and becomes the pipeline's dispatcher: `IngestPipeline.start()` enqueues from now on. */
  static async open(redisUrl: string, orm: MikroORM, pipeline: IngestPipeline): Promise<IngestJobs> {
    const jobs = new IngestJobs(redisUrl, orm, pipeline);
    await Promise.all([jobs.queue.waitUntilReady(), jobs.events.waitUntilReady()]);
    pipeline.dispatcher = jobs;
    return jobs;
  }

  /** Marks the submission PROCESSING, tells subscribers, and queues its run unless one is under way. */
  async start(submissionId: number): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Submission, { id: submissionId }, { state: SubmissionState.PROCESSING });
    this.pipeline.announce(submissionId);
    if (await this.queue.getJob(finishJobId(submissionId))) return;
    // An id that exists (a plan queued or running) makes this add a no-op: the runs join.
    await this.queue.add('plan', { submissionId }, { jobId: planJobId(submissionId) });
  }

  /** Jobs by state (the `obia_ingest_jobs` gauge). */
  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'prioritized', 'failed');
  }

  async close(): Promise<void> {
    if (this.pipeline.dispatcher === this) this.pipeline.dispatcher = null;
    await Promise.all([this.events.close(), this.queue.close()]);
  }
}
