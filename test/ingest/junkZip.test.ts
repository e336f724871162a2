// Issue 22 (reliability), the ingest half: a zip of 1,500 tiny junk entries is screened,
// quarantined and told to QC in batches whose cost does not grow with the submission, without
// freezing the hub; a run stopped by shutdown parks between batches and the next run finishes it.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { zipSync } from 'fflate';
import { Role } from '../../src/auth/Principal.js';
import { QcEvent } from '../../src/entities/QcEvent.js';
import { LISTED_FILES } from '../../src/ingest/uploadRoute.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { withSeed } from '../support/random.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';
import { processToEnd } from '../support/kit.js';
import { subscribeLive } from '../support/live.js';

describe('a zip of 1,500 junk entries', () => {
  let app: TestApp;
  let token: string;
  before(async () => { app = await startTestApp(); token = await submitter(app); });
  after(async () => app?.stop());

  it('is quarantined file by file with one QC event each, in a bounded number of statements, while the hub keeps answering', { timeout: 300_000 }, () => withSeed(async (random) => {
    const N = 1500;
    const sub = await createSubmission(app, token, { title: 'Junk zip' });
    const entries = Object.fromEntries(Array.from({ length: N }, (_, i) => [`junk/${i}.dcm`, random.bytes(random.int(1, 40))]));
    // The received files' rows go in statements of bounded size: one insert of a zip's 200,000
    // rows (its bound) was ≈ 36 MB of SQL, past MariaDB's 16 MB packet limit.
    const inserts: number[] = [];
    const onInsert = (q: { sql: string }) => { if (/^insert into [`"]submission_file[`"]/i.test(q.sql)) inserts.push(q.sql.length); };
    const appKnex = (app.orm.em as EntityManager).getKnex();
    appKnex.on('query', onInsert);
    const res = await upload(app, token, sub.uploadUrl, zipSync(entries), 'junk.zip', 'POST');
    appKnex.removeListener('query', onInsert);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // The answer counts every file and lists the first thousand (the rest are paged through `files`).
    assert.equal(res.body.received, N);
    assert.equal(res.body.files.length, LISTED_FILES);
    assert.match(res.body.more, /^500 more files were received/);
    assert.ok(inserts.length >= 2 && Math.max(...inserts) < 512 * 1024, `insert statements of ${inserts.join(', ')} characters`);

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let answered = 0;
    let result!: Awaited<ReturnType<typeof processToEnd>>;
    // Statements on the tables the pipeline writes per file (the polling below reads others).
    let statements = 0;
    const count = (q: { sql: string }) => { if (/submission_file|qc_event/.test(q.sql)) statements++; };
    const knex = (app.orm.em as EntityManager).getKnex();
    knex.on('query', count);
    // Its first event is the state before the run (OPEN); each later one comes between batches.
    const progress = await subscribeLive(app, token, `subscription($s: ID!) { submissionProgress(submission: $s) { state } }`, { s: sub.id });
    try {
      const run = processToEnd(app, token, sub.id).then((r) => { result = r; });
      // Requests made while the run goes on are answered (it yields between batches): one on each
      // progress event, rather than as many as a loop can send (which doubled the file's CPU time).
      let done = false;
      void run.finally(() => { done = true; });
      for (let k = 1; !done; k++) {
        const nth = progress.next((e) => progress.events.indexOf(e) >= k, `progress event ${k}`);
        nth.catch(() => {}); // the run may end first; then this wait is abandoned
        await Promise.race([run, nth]);
        if (done) break;
        const r = await app.gql('{ collections(first: 1) { totalCount } }');
        assert.equal(r.status, 200);
        answered++;
      }
      await run;
    } finally {
      knex.removeListener('query', count);
      await progress.dispose();
    }
    delay.disable();
    assert.deepEqual({ ...result }, { ingested: 0, quarantined: N, duplicates: 0, pending: 0, unmatchedClinicalRecords: 0 });
    assert.ok(answered >= 1);
    // One UPDATE and one multi-row INSERT per 400 files (and reads that do not depend on N): the
    // old pipeline spent a statement per file and re-read every quarantined row per batch.
    assert.ok(statements < 80, `${statements} statements for ${N} quarantines`);
    // The embedded SQLite driver is synchronous, so a commit's fsync on a busy disk stalls the
    // loop by itself; the bound catches work that grows with the submission (seconds per run).
    assert.ok(delay.max / 1e6 < 10_000, `the event loop was blocked for ${(delay.max / 1e6).toFixed(0)} ms`);

    const events = await app.orm.em.fork().find(QcEvent, { submission: Number(sub.id) }, { fields: ['subject', 'kind', 'actor'] });
    assert.equal(events.length, N, 'one QC event per quarantined file');
    assert.equal(new Set(events.map((e) => e.subject)).size, N);
    assert.ok(events.every((e) => e.kind === 'QUARANTINED' && e.actor === 'pipeline'));

    // A curator's discard deletes every quarantined file's bytes, reading the rows a page at a
    // time (it loaded all of them at once: 200,000 entities for a zip at its bound).
    const selects: number[] = [];
    const onSelect = (q: { sql: string; bindings?: unknown[] }) => { if (/^select .* from [`"]submission_file[`"]/i.test(q.sql)) selects.push(q.sql.length); };
    knex.on('query', onSelect);
    const curator = await app.token('junk-curator', Role.CURATOR);
    const discard = `mutation($s: ID!) { discardStagedFiles(submission: $s) }`;
    const discarded = await app.gql(discard, { s: sub.id }, curator);
    knex.removeListener('query', onSelect);
    assert.equal(discarded.data?.discardStagedFiles, N, JSON.stringify(discarded.errors));
    assert.ok(selects.length >= 2, `${selects.length} reads of the submission's files for ${N} discards`);
    assert.equal((await app.gql(discard, { s: sub.id }, curator)).data?.discardStagedFiles, 0, 'nothing is left to discard');
  }));
});

describe('a run stopped by shutdown', () => {
  it('parks between batches, loses nothing, and the next run finishes every file once', { timeout: 300_000 }, async () => {
    const first = await startTestApp();
    const token = await submitter(first);
    const sub = await createSubmission(first, token, { title: 'Stopped run' });
    const N = 96;
    const [study, series] = [uid(), uid()];
    for (let i = 0; i < N; i++) {
      assert.equal((await upload(first, token, sub.uploadUrl, makeCt({ patientId: 'STOP-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i + 1, size: 32 }), `${i}.dcm`)).status, 201);
    }
    const ctx = await first.createContext(null);
    const pipeline = ctx.ingest!.pipeline;
    // Stop as soon as the first batch has been indexed: waits on the pipeline's own event, no sleep.
    const firstBatch = new Promise<void>((resolve) => {
      const onProgress = async () => {
        const s = await pipeline.summary(Number(sub.id));
        if (s.ingested > 0) { pipeline.events.off('progress', onProgress); resolve(); }
      };
      pipeline.events.on('progress', onProgress);
    });
    const run = pipeline.process(Number(sub.id));
    await firstBatch;
    await pipeline.close();
    const parked = await run;
    assert.ok(parked.pending > 0, 'the run stopped before the end (else this test proves nothing)');
    assert.equal(parked.ingested + parked.pending, N);
    await first.close();
    await new Promise((r) => first.server.close(r));

    const second = await startTestApp({ db: first.db });
    try {
      const curatorToken = await submitter(second);
      const done = await processToEnd(second, curatorToken, sub.id);
      assert.deepEqual(done, { ingested: N, quarantined: 0, duplicates: 0, pending: 0, unmatchedClinicalRecords: 0 });
      const s = await fetchSubmission(second, curatorToken, sub.id);
      assert.equal(new Set(s.files.map((f: any) => f.imageUid)).size, N);
    } finally {
      await second.stop();
      await first.db.drop();
    }
  });
});
