// Ingest as jobs (issue 18): hub A enqueues a submission of a few hundred files, two real
// `npm run worker` processes take its batches from BullMQ on a Redis of the test's own, and one
// of them is SIGKILLed while it holds jobs (chosen by a seeded random: on its k-th batch's start,
// an event, not a timer). BullMQ's stalled-job check gives its jobs to the other worker; every
// file ends once (one image per stored file, the series' counts right, nothing pending), and a
// subscriber on hub B, another process, saw the progress and the QC event of the duplicate. The
// finish job builds the tag census from the batches' results: it reads back from the blob store
// only the files whose batch died with the victim, and the census equals one read from every file.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { zipSync } from 'fflate';
import { TagCensus, type TagCensusJson } from '../../src/qc/TagCensus.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seededRandom } from '../support/random.js';
import { createSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';
import { startReplica, startWorker, stopChild, subscriber } from './processes.js';
import { startRedis, type TestRedis } from './redis.js';

const FILES = 300;
// Short, so the test waits seconds for the takeover; long enough that a busy machine's workers keep their locks.
const LOCK_MS = 5000;

describe('ingest as jobs on BullMQ with worker processes', () => {
  const random = seededRandom();
  let redis: TestRedis;
  let hubA: TestApp;
  let hubB: { url: string; child: ChildProcess };
  const workers: ChildProcess[] = [];

  before(async () => {
    redis = await startRedis();
    hubA = await startTestApp({ config: { redisUrl: redis.url, jobs: { mode: 'bullmq', lockMs: LOCK_MS } } });
    const { databaseUrl, dataDir, keysDir, stagingDir, backupDir } = hubA.config;
    hubB = await startReplica({ databaseUrl, dataDir, keysDir, stagingDir, backupDir, redisUrl: redis.url, jobs: { mode: 'bullmq', lockMs: LOCK_MS } });
  });
  after(async () => {
    for (const w of workers) await stopChild(w);
    await stopChild(hubB?.child);
    await hubA?.stop();
    await redis?.stop();
  });

  it('loses nothing when a worker is killed mid-run: every file ends once, and hub B saw the progress', { timeout: 600_000 }, async (t) => {
    t.diagnostic(`seed ${random.seed}`);
    const token = await submitter(hubA);
    const sub = await createSubmission(hubA, token);
    // Two patients, two series each: workers in two processes add to the same series at once.
    const series = Array.from({ length: 4 }, (_, i) => ({ patient: `JOBS-${i >> 1}`, study: `${uid()}`, series: uid() }));
    series[1]!.study = series[0]!.study;
    series[3]!.study = series[2]!.study;
    const entries: Record<string, Uint8Array> = {};
    const sops: string[] = [];
    for (let i = 0; i < FILES - 1; i++) {
      const s = series[i % series.length]!;
      const sop = uid();
      sops.push(sop);
      entries[`f${i}.dcm`] = makeCt({ patientId: s.patient, studyUid: s.study, seriesUid: s.series, sopUid: sop, instanceNumber: i + 1, size: 32 });
    }
    // The same SOP instance again with other bytes: kept once, announced as a DUPLICATE QC event.
    entries['again.dcm'] = makeCt({ patientId: series[0]!.patient, studyUid: series[0]!.study, seriesUid: series[0]!.series, sopUid: sops[0]!, instanceNumber: 999, size: 32 });
    const staged = await upload(hubA, token, sub.uploadUrl, zipSync(entries, { level: 1 }), 'all.zip');
    assert.equal(staged.status, 201, JSON.stringify(staged.body).slice(0, 300));

    const env = {
      OBIA_REDIS_URL: redis.url, OBIA_JOBS_LOCK_MS: String(LOCK_MS), OBIA_DATA_DIR: hubA.config.dataDir, OBIA_KEYS_DIR: hubA.config.keysDir,
      OBIA_STAGING_DIR: hubA.config.stagingDir, OBIA_BACKUP_DIR: hubA.config.backupDir, DATABASE_URL: hubA.config.databaseUrl ?? '',
      OBIA_INGEST_WORKERS: '1', OBIA_INGEST_BATCH: '10', OBIA_INGEST_CONCURRENCY: '2', OBIA_LOG_LEVEL: 'warn',
    };
    // The victim is killed at the start of its k-th batch, with its other lane mid-batch.
    const k = random.int(2, 5);
    const inFlight = new Set<string>();
    let victimBatches = 0;
    let killedHolding: string[] = [];
    let killedAt = '';
    const completedBySurvivor = new Set<string>();
    const finished: { census?: { fromRun: number; readBack: number } }[] = [];
    // The finish job marks the run PROCESSED before its worker reports the job completed: the
    // report is waited for, not assumed to have come with the state.
    let finishReported!: () => void;
    const finishDone = new Promise<void>((resolve) => { finishReported = resolve; });
    const killed = new Promise<void>((resolve) => {
      void startWorker(env, (m) => {
        if (m.completed) inFlight.delete(m.completed.id);
        if (m.completed?.name === 'finish') { finished.push(m.completed.products); finishReported(); }
        if (!m.active) return;
        inFlight.add(m.active.id);
        if (m.active.name === 'batch' && ++victimBatches === k) {
          killedHolding = [...inFlight].filter((id) => id.includes('-b'));
          killedAt = m.active.id;
          victim.kill('SIGKILL');
          victim.once('exit', () => resolve());
        }
      }).then((w) => { victim = w; workers.push(w); });
      let victim: ChildProcess;
    });
    const survivor = await startWorker(env, (m) => {
      if (m.completed) completedBySurvivor.add(m.completed.id);
      if (m.completed?.name === 'finish') { finished.push(m.completed.products); finishReported(); }
    });
    workers.push(survivor);

    const progress = subscriber(hubB.url, token, `subscription($id: ID!) { submissionProgress(submission: $id) { state total counts { state count } } }`, { id: sub.id });
    const qc = subscriber(hubB.url, token, `subscription($s: ID!) { qcEvents(submission: $s) { kind subject } }`, { s: sub.id });
    try {
      await progress.waitFor((e) => e.some((x) => x.data?.submissionProgress), 'the current state on hub B');
      const started = await hubA.gql(`mutation($s: ID!) { processSubmission(submission: $s) { state } }`, { s: sub.id }, token);
      assert.equal(started.errors, undefined, JSON.stringify(started.errors));
      assert.equal(started.data.processSubmission.state, 'PROCESSING');

      await killed;
      t.diagnostic(`worker killed at the start of its batch ${k}, holding ${killedHolding.length} batch jobs`);
      assert.ok(killedHolding.length >= 1);
      await progress.waitFor((e) => e.some((x) => x.data?.submissionProgress?.state === 'PROCESSED'), 'PROCESSED on hub B', 480_000);
      // The batch the victim had just begun was taken over and completed by the other worker. (Of
      // the others it held, one may have completed just before its 'completed' message was sent.)
      assert.ok(completedBySurvivor.has(killedAt), `job ${killedAt} was recovered by the surviving worker`);
      t.diagnostic(`recovered by the survivor: ${killedHolding.filter((id) => completedBySurvivor.has(id)).length} of ${killedHolding.length}`);

      const knex = (hubA.orm.em as EntityManager).getKnex();
      const states: { state: string; n: number }[] = await knex('submission_file').where({ submission_id: Number(sub.id) }).groupBy('state').select('state').count({ n: '*' });
      assert.deepEqual(Object.fromEntries(states.map((r) => [r.state, Number(r.n)])), { INDEXED: FILES - 1, DUPLICATE: 1 }, 'every file in a final state, none pending');
      // The archive's UIDs are remapped: the images are found through the files' image UIDs.
      const stored: { n: number; uids: number }[] = await knex('image').whereIn('uid', knex('submission_file').where({ submission_id: Number(sub.id), state: 'INDEXED' }).select('image_uid'))
        .select(knex.raw('count(*) as n'), knex.raw('count(distinct uid) as uids'));
      assert.deepEqual({ n: Number(stored[0]!.n), uids: Number(stored[0]!.uids) }, { n: FILES - 1, uids: FILES - 1 }, 'one image per stored file');
      const counts: { series_id: number; image_count: number; actual: number }[] = await knex('series as s')
        .join('image as i', 'i.series_id', 's.id').whereIn('i.uid', knex('submission_file').where({ submission_id: Number(sub.id) }).select('image_uid'))
        .groupBy('s.id', 's.image_count').select('s.id as series_id', 's.image_count', knex.raw('count(*) as actual'));
      assert.equal(counts.length, 4);
      for (const c of counts) assert.equal(Number(c.image_count), Number(c.actual), 'the series counts every image once (no lost update between workers)');

      // The finish job counted the files of completed batches from their results and read back
      // only what died with the victim: at most the batches it held (one whose result was
      // recorded before the kill counts from its result).
      await finishDone;
      assert.equal(finished.length, 1, 'one finish job');
      const { fromRun, readBack } = finished[0]!.census!;
      t.diagnostic(`finish: ${fromRun} files counted from the batches' results, ${readBack} read back`);
      assert.equal(fromRun + readBack, FILES - 1, 'the census counts every stored file once');
      assert.ok(readBack <= killedHolding.length * 10, `read back ${readBack} files; the victim held ${killedHolding.length} batches of 10`);
      // The same census as reading every stored file (sample values depend on the order; the counts do not).
      const [row] = await knex('submission_census').where({ submission_id: Number(sub.id) }).select('census', 'counted_files');
      const persisted = (typeof row.census === 'string' ? JSON.parse(row.census) : row.census) as TagCensusJson;
      const storedFiles: { id: number; stored_sha256: string }[] = await knex('submission_file').where({ submission_id: Number(sub.id), state: 'INDEXED' }).select('id', 'stored_sha256');
      const reference = new TagCensus({ options: persisted.options });
      for (const f of storedFiles) reference.addPart10(await hubA.door.ingest!.store.get(f.stored_sha256));
      const tagCounts = (c: TagCensus) => c.entries().map((e) => `${e.tag} ${e.privateCreator ?? ''} files=${e.files} distinct=${e.distinctValues}`);
      assert.deepEqual(tagCounts(TagCensus.fromJSON(persisted)), tagCounts(reference));
      assert.equal(persisted.files, FILES - 1);
      const countedFiles = typeof row.counted_files === 'string' ? JSON.parse(row.counted_files) : row.counted_files;
      assert.deepEqual(countedFiles, storedFiles.map((f) => f.id).sort((a, b) => a - b));

      const seen = progress.events.map((x) => x.data?.submissionProgress).filter(Boolean);
      const indexed = seen.map((p) => p.counts.find((c: any) => c.state === 'INDEXED')?.count ?? 0);
      assert.ok(new Set(indexed.filter((n) => n > 0 && n < FILES - 1)).size >= 3, `hub B saw the run move: ${indexed.join(',')}`);
      await qc.waitFor((e) => e.some((x) => x.data?.qcEvents?.kind === 'DUPLICATE'), 'the DUPLICATE QC event on hub B');

      const metrics = await (await fetch(`${hubA.url}/metrics`)).text();
      const batches = Math.ceil((FILES - 2) / 10);
      const completed = Number(/^obia_ingest_jobs_completed_total\{kind="batch"\} (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(completed >= batches, `batch jobs completed: ${completed}`);
      assert.match(metrics, /^obia_ingest_jobs\{state="waiting"\} 0$/m);
      assert.match(metrics, /^obia_ingest_jobs\{state="active"\} 0$/m);
    } finally {
      progress.client.dispose();
      qc.client.dispose();
    }
  });
});
