// Hubs are replicas of one archive (README, "Scaling out"). Without the job queue each runs
// processSubmission in its own process: two asked at once, as a client retrying through a load
// balancer does, must run the submission once between them, and a hub killed mid-run must not
// keep its submission from ever running again (src/ingest/runLease.ts).
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ownerOnThisMachine, RunLease } from '../../src/ingest/runLease.js';
import { createSubmission, makeCt, submitter, upload } from '../ingest/helpers.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { testUid } from '../support/kit.js';

const LEASE_MS = 2_000;

describe('two hubs of one archive', () => {
  let a: TestApp;
  let b: TestApp;
  const saved = process.env.OBIA_RUN_LEASE_MS;
  before(async () => {
    process.env.OBIA_RUN_LEASE_MS = String(LEASE_MS);
    a = await startTestApp();
    b = await startTestApp({ db: a.db });
  });
  after(async () => {
    if (saved === undefined) delete process.env.OBIA_RUN_LEASE_MS; else process.env.OBIA_RUN_LEASE_MS = saved;
    await b?.stop();
    await a?.stop();
  });

  const knex = () => (a.orm.em.fork() as EntityManager).getKnex();
  const states = async (submission: string) => Object.fromEntries((await knex()('submission_file').where('submission_id', Number(submission)).groupBy('state').select('state').count({ n: '*' }))
    .map((r: any) => [r.state, Number(r.n)]));
  const imagesOf = async (submission: string) => Number((await knex()('submission_file').where('submission_id', Number(submission)).whereNotNull('image_uid').countDistinct({ n: 'image_uid' }).first())!.n);

  async function filled(files: number): Promise<string> {
    const token = await submitter(a);
    const sub = await createSubmission(a, token);
    const study = testUid();
    const id0 = testUid().slice(-6);
    const series = testUid();
    for (let i = 0; i < files; i++) {
      const r = await upload(a, token, sub.uploadUrl, makeCt({ patientId: `HUB-${id0}`, studyUid: study, seriesUid: series, sopUid: testUid(), instanceNumber: i + 1 }), `${i}.dcm`);
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    return sub.id;
  }

  it('asked to process one submission at once, run it once between them: every file indexed, none quarantined or a duplicate of itself', async () => {
    const id = await filled(40);
    const [ra, rb] = await Promise.all([a.door.ingest!.pipeline.process(Number(id)), b.door.ingest!.pipeline.process(Number(id))]);
    assert.deepEqual(await states(id), { INDEXED: 40 });
    assert.equal(await imagesOf(id), 40);
    // Both callers are told the outcome, whichever hub ran it.
    for (const r of [ra, rb]) assert.deepEqual({ ingested: r.ingested, quarantined: r.quarantined, duplicates: r.duplicates, pending: r.pending }, { ingested: 40, quarantined: 0, duplicates: 0, pending: 0 });
    const row = await knex()('submission').where('id', Number(id)).first('state', 'run_owner');
    assert.deepEqual({ ...row }, { state: 'PROCESSED', run_owner: null });
  });

  it('a submission whose hub died mid-run (its lease silent for longer than a lease) is taken over by the next processSubmission', async () => {
    const id = await filled(6);
    await knex()('submission').where('id', Number(id)).update({ state: 'PROCESSING', run_owner: 'a-hub-that-was-killed', run_heartbeat_at: new Date(Date.now() - 10 * LEASE_MS) });
    const r = await b.door.ingest!.pipeline.process(Number(id));
    assert.equal(r.ingested, 6);
    assert.deepEqual(await states(id), { INDEXED: 6 });
  });

  it('a submission whose holder on this machine was killed mid-run is taken over at once, its lease still fresh', { skip: !fs.existsSync('/proc/self/stat'), timeout: 60_000 }, async () => {
    const id = await filled(4);
    // The owner id a process on this machine writes (runLease.ts), for a process that has ended.
    const child = spawnSync(process.execPath, ['-e', '']);
    // Its lease runs for an hour more: only knowing its process has ended lets the run through (else this test times out).
    await knex()('submission').where('id', Number(id)).update({ state: 'PROCESSING', run_owner: ownerOnThisMachine(child.pid!, '1'), run_heartbeat_at: new Date(Date.now() + 3_600_000) });
    const r = await b.door.ingest!.pipeline.process(Number(id));
    assert.equal(r.ingested, 4);
  });

  it('a run whose lease another process took over learns it at its next renewal, and cannot write the state', async () => {
    const id = await filled(1);
    const em = () => a.orm.em.fork() as EntityManager;
    const lease = (await RunLease.claim(em, Number(id), LEASE_MS))!;
    assert.ok(lease);
    assert.equal(await RunLease.claim(em, Number(id), LEASE_MS), null, 'a live lease is not claimed twice');
    await knex()('submission').where('id', Number(id)).update({ run_owner: 'the-new-holder' });
    assert.equal(await lease.renew(), false);
    assert.equal(lease.lost, true);
    assert.equal(await lease.release((await import('../../src/entities/Submission.js')).SubmissionState.PROCESSED), false);
    assert.equal((await knex()('submission').where('id', Number(id)).first('state')).state, 'PROCESSING');
  });
});
