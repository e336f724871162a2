// Two hub replicas on one database, events through a Redis of the test's own (issue 18): a
// subscriber on hub B sees the progress and QC events of a submission processed on hub A, and
// hub B's similarity index finds the new images from the events (how soon is reported). Hub B runs
// in a process of its own, so nothing can reach it except through Redis and the database.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';
import { processToEnd } from '../support/kit.js';
import { startReplica, subscriber } from './processes.js';
import { startRedis, type TestRedis } from './redis.js';

describe('hub replicas sharing events through Redis', () => {
  let redis: TestRedis;
  let hubA: TestApp;
  let hubB: { url: string; child: ChildProcess };
  let hubConfig: Record<string, unknown>;

  before(async () => {
    redis = await startRedis();
    hubA = await startTestApp({ config: { redisUrl: redis.url } });
    const { databaseUrl, dataDir, keysDir, stagingDir, backupDir } = hubA.config;
    // The same database and data directory (hence the same token-signing key): sessions are tokens.
    hubConfig = { databaseUrl, dataDir, keysDir, stagingDir, backupDir };
    hubB = await startReplica({ ...hubConfig, redisUrl: redis.url });
  });
  after(async () => {
    if (hubB?.child.connected) {
      const exited = new Promise((r) => hubB.child.once('exit', r));
      hubB.child.disconnect();
      await exited;
    }
    await hubA?.stop();
    await redis?.stop();
  });

  it('shows hub B\'s subscriber the progress and QC events of a submission processed on hub A, and hub B finds its images', async (t) => {
    const token = await submitter(hubA);
    const sub = await createSubmission(hubA, token);
    const [study, series] = [uid(), uid()];
    const sops = Array.from({ length: 6 }, () => uid());
    for (const [i, sop] of sops.entries()) {
      await upload(hubA, token, sub.uploadUrl, makeCt({ patientId: 'REPLICA-1', studyUid: study, seriesUid: series, sopUid: sop, instanceNumber: i + 1 }));
    }
    // The same SOP instance again, with other bytes: kept once, announced as a DUPLICATE QC event.
    await upload(hubA, token, sub.uploadUrl, makeCt({ patientId: 'REPLICA-1', studyUid: study, seriesUid: series, sopUid: sops[0]!, instanceNumber: 99 }));

    const progress = subscriber(hubB.url, token, `subscription($id: ID!) { submissionProgress(submission: $id) { submissionId total counts { state count } } }`, { id: String(sub.id) });
    const qc = subscriber(hubB.url, token, `subscription($s: ID!) { qcEvents(submission: $s) { submissionId kind subject at } }`, { s: String(sub.id) });
    try {
      // submissionProgress leads with "now": once it has arrived, hub B's subscription is live.
      await progress.waitFor((e) => e.some((x) => x.data?.submissionProgress), 'the current state on hub B');
      const result = await processToEnd(hubA, token, sub.id);
      assert.deepEqual({ ingested: result.ingested, duplicates: result.duplicates }, { ingested: 6, duplicates: 1 });
      const storedAt = Date.now();

      const indexed = (x: any) => x.data?.submissionProgress?.counts.find((c: any) => c.state === 'INDEXED')?.count === 6;
      await progress.waitFor((e) => e.some(indexed), 'six INDEXED files reported on hub B');
      const payloads = progress.events.map((x) => x.data?.submissionProgress).filter(Boolean);
      assert.ok(payloads.length >= 3, `hub B saw the run move, not only its start: ${payloads.length} events`);
      assert.equal(payloads.at(-1).total, 7);

      await qc.waitFor((e) => e.some((x) => x.data?.qcEvents?.kind === 'DUPLICATE'), 'a DUPLICATE QC event on hub B');
      const duplicate = qc.events.find((x) => x.data?.qcEvents?.kind === 'DUPLICATE').data.qcEvents;
      assert.equal(duplicate.submissionId, sub.id);
      // The date crossed Redis as JSON and was revived: the DateTimeISO scalar serialises Dates only.
      assert.ok(!Number.isNaN(Date.parse(duplicate.at)) && Math.abs(Date.parse(duplicate.at) - storedAt) < 60_000, `a real timestamp: ${duplicate.at}`);
      assert.ok(qc.events.every((x) => !x.errors && !x.error), JSON.stringify(qc.events).slice(0, 400));

      // De-identification remapped the UIDs: the archived images are named by the new ones.
      const stored: string[] = (await fetchSubmission(hubA, token, sub.id)).files.filter((f: any) => f.state === 'INDEXED').map((f: any) => f.imageUid);
      assert.equal(stored.length, 6);
      // Hub B's similarity index learnt the six codes from hub A's events, not from a restart.
      const query = `query($u: String!) { similarImages(image: { uid: $u }, k: 10) { distance image { uid } } }`;
      // The query image itself is not among its neighbours: the other five are.
      const others = stored.filter((u) => u !== stored[1]).sort();
      // How soon is a figure (the diagnostic below), not a pass mark: on a loaded machine the
      // waits above can take longer than the propagation itself. The loop asks at least once.
      let found: string[] = [];
      for (let asked = 0; asked === 0 || Date.now() - storedAt < 60_000; asked++) {
        const res = await fetch(`${hubB.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables: { u: stored[1] } }) });
        const body = await res.json() as any;
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        found = body.data.similarImages.map((s: any) => s.image.uid);
        if (others.every((s) => found.includes(s))) break;
      }
      assert.deepEqual([...found].sort(), others, 'hub B finds the new images from the events alone');
      t.diagnostic(`hub B found the new codes ${Date.now() - storedAt} ms after hub A's run returned`);

      // A replica started afterwards builds its index from the database, not from events it never heard.
      const hubC = await startReplica({ ...hubConfig, redisUrl: null });
      try {
        const metrics = await (await fetch(`${hubC.url}/metrics`)).text();
        assert.match(metrics, /^obia_hash_index_size 6$/m);
      } finally {
        const exited = new Promise((r) => hubC.child.once('exit', r));
        hubC.child.disconnect();
        await exited;
      }
    } finally {
      progress.client.dispose();
      qc.client.dispose();
    }
  });
});
