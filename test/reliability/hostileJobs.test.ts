// Regression: the ingest worker (`npm run worker`, src/jobs/processor.ts) trusted every job on the
// queue. A job whose data was null failed in process() and then threw again inside the 'failed'
// handler, a promise nobody awaited: under Node's default the worker process ended (and the queue
// handed the job to the next worker, which ended too). Malformed data was retried five times with
// backoff; a batch naming another submission's files ran them under this submission's run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { logger } from '../../src/log.js';
import { IngestWorker, MAX_BATCH_FILES } from '../../src/jobs/processor.js';
import { JOB_OPTIONS, QUEUE_NAME, queueSettings } from '../../src/jobs/queue.js';
import { noDatabase } from '../support/once.js';
import { startRedis, type TestRedis } from '../scale/redis.js';

noDatabase('what the ingest worker does with jobs it cannot trust, before any database work (the database is a stub)');

/** Submission 1 holds files 10 and 11; submission 2 holds file 20. */
const FILES: Record<number, number> = { 10: 1, 11: 1, 20: 2 };

describe('the ingest worker refuses hostile jobs and keeps working', () => {
  let redis: TestRedis;
  let worker: IngestWorker;
  let queue: Queue;
  let events: QueueEvents;
  const processed: number[][] = [];
  const stray: unknown[] = [];
  const onStray = (reason: unknown) => { stray.push(reason); };

  before(async () => {
    redis = await startRedis();
    process.on('unhandledRejection', onStray);
    const em = {
      findOneOrFail: async (_: unknown, where: { id: number }) => ({ id: where.id }),
      find: async (_: unknown, where: { id: { $in: number[] }; submission: number }) =>
        where.id.$in.filter((id) => FILES[id] === where.submission).map((id) => ({ id })),
      nativeUpdate: async () => 1,
    };
    const orm = { em: { fork: () => em } } as any;
    const pipeline = {
      runContext: () => ({}),
      processBatch: async (ids: number[]) => { processed.push(ids); },
      partials: () => ({}),
      announce: () => undefined,
    } as any;
    worker = new IngestWorker(orm, pipeline, { redisUrl: redis.url, concurrency: 1, lockMs: 30_000, log: logger.child({ test: 'hostileJobs' }) });
    await worker.waitUntilReady();
    queue = new Queue(QUEUE_NAME, queueSettings(redis.url));
    events = new QueueEvents(QUEUE_NAME, queueSettings(redis.url));
    await events.waitUntilReady();
  });
  after(async () => {
    await worker?.close();
    await events?.close();
    await queue?.close();
    await redis?.stop();
    process.off('unhandledRejection', onStray);
  });

  /** Adds a job as a hostile producer would (the hub's own options: five attempts) and waits for its end. */
  async function outcome(name: string, data: unknown): Promise<{ state: 'failed' | 'completed'; reason?: string; attempts: number }> {
    const job = await queue.add(name, data, { ...JOB_OPTIONS, removeOnFail: false, removeOnComplete: false });
    const state = await new Promise<'failed' | 'completed'>((resolve) => {
      const done = ({ jobId }: { jobId: string }) => { if (jobId === job.id) { events.off('completed', ok); events.off('failed', bad); } };
      const ok = (e: { jobId: string }) => { if (e.jobId === job.id) { done(e); resolve('completed'); } };
      const bad = (e: { jobId: string }) => { if (e.jobId === job.id) { done(e); resolve('failed'); } };
      events.on('completed', ok);
      events.on('failed', bad);
      void queue.getJobState(job.id!).then((s) => { if (s === 'failed' || s === 'completed') resolve(s); });
    });
    const after = (await queue.getJob(job.id!))!;
    return { state, reason: after.failedReason, attempts: after.attemptsMade };
  }

  it('fails malformed jobs at once, without retries, without a stray rejection', async () => {
    const hostile: [string, unknown][] = [
      ['plan', null],
      ['finish', 'OBIA0001'],
      ['plan', { submissionId: '1 OR 1=1' }],
      ['plan', { submissionId: { $gt: 0 } }],
      ['batch', { submissionId: 1, fileIds: 'all' }],
      ['batch', { submissionId: 1, fileIds: Array.from({ length: MAX_BATCH_FILES + 1 }, (_, i) => i + 1) }],
      ['batch', { submissionId: 1, fileIds: [] }],
      ['evil', { submissionId: 1 }],
    ];
    for (const [name, data] of hostile) {
      const o = await outcome(name, data);
      assert.equal(o.state, 'failed', `${name} ${JSON.stringify(data)?.slice(0, 60)}`);
      assert.equal(o.attempts, 1, `${name}: not retried`);
    }
    assert.deepEqual(processed, [], 'no hostile job reached the pipeline');
    assert.deepEqual(stray, [], 'no promise rejection went unhandled');
  });

  it("runs a batch on its own submission's files only", async () => {
    const o = await outcome('batch', { submissionId: 1, fileIds: [20, 11, 10, 11] });
    assert.equal(o.state, 'completed');
    assert.deepEqual(processed, [[10, 11]]);
  });
});
