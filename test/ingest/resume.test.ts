// Resumability: processing twice changes nothing; duplicates are kept once; and a CLI import
// killed (SIGKILL) in the middle of the pipeline is finished by processSubmission with
// every file accounted for exactly once and no image stored twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/orm.js';
import { Image, Series, SubmissionFile } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

const CLI = path.resolve(__dirname, '../../src/ingest/cli.js');

async function imageCountsAgree(em: EntityManager, collectionAccession: string) {
  const series = await em.find(Series, { collection: { accession: collectionAccession } });
  const images = await em.count(Image, { series: { collection: { accession: collectionAccession } } });
  assert.equal(series.reduce((s, x) => s + x.imageCount, 0), images, 'Series.imageCount matches the Image rows');
  return images;
}

describe('processing is idempotent', () => {
  let app: TestApp;
  let token: string;
  before(async () => { app = await startTestApp(); token = await submitter(app); });
  after(async () => app?.stop());

  it('a second run changes no count and stores no image twice; a resent file is a duplicate', async () => {
    const sub = await createSubmission(app, token);
    const [study, series] = [uid(), uid()];
    const images = Array.from({ length: 6 }, (_, i) => makeCt({ patientId: 'P-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i + 1 }));
    for (const [i, bytes] of images.entries()) assert.equal((await upload(app, token, sub.uploadUrl, bytes, `${i}.dcm`)).status, 201);
    assert.equal((await upload(app, token, sub.uploadUrl, images[0]!, 'again.dcm')).status, 201);
    const first = await processToEnd(app, token, sub.id);
    assert.deepEqual({ ...first }, { ingested: 6, quarantined: 0, duplicates: 1, pending: 0, unmatchedClinicalRecords: 0 });
    const second = await processToEnd(app, token, sub.id);
    assert.deepEqual(second, first);
    const s = await fetchSubmission(app, token, sub.id);
    const em = app.orm.em.fork() as EntityManager;
    assert.equal(await imageCountsAgree(em, s.collection.accession), 6);
    assert.deepEqual(s.progress.counts.find((c: any) => c.state === 'INDEXED'), { state: 'INDEXED', count: 6 });

    // The same images sent again in another submission to the same collection are duplicates too.
    const again = await createSubmission(app, token, { collection: s.collection.accession });
    for (const bytes of images.slice(0, 2)) await upload(app, token, again.uploadUrl, bytes);
    const third = await processToEnd(app, token, again.id);
    assert.equal(third.duplicates, 2);
    assert.equal(await imageCountsAgree(em, s.collection.accession), 6);
  });
});

describe('a killed import resumes', () => {
  it('finishes after SIGKILL mid-pipeline with every file accounted for once', { timeout: 240_000 }, async () => {
    const db = await createTestDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-kill-'));
    const N = 160;
    const [study, series] = [uid(), uid()];
    for (let i = 0; i < N; i++) fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.dcm`), makeCt({ patientId: 'KILL-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i + 1, size: 128 }));

    const env: NodeJS.ProcessEnv = { ...process.env, OBIA_DATA_DIR: db.dataDir, ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}) };
    delete env.OBIA_STAGING_DIR; delete env.OBIA_BACKUP_DIR; delete env.OBIA_KEYS_DIR; delete env.OBIA_ARCHIVE_SECRET;
    const child = spawn(process.execPath, [CLI, dir, '--title', 'Killed import', '--disease', 'test'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill once the pipeline is well under way, on the progress the CLI reports (`processed k/N`
    // lines on stderr when it is not a terminal): no polling of its database.
    const killedAt = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const done = Math.max(-1, ...[...stderr.matchAll(/^processed (\d+)\//gm)].map((m) => Number(m[1])));
        if (done >= 20) { child.kill('SIGKILL'); resolve(done); }
      });
      child.on('exit', () => reject(new Error(`the CLI exited before processing 20 files: ${stderr}`)));
    });
    await exited;
    assert.match(stderr, new RegExp(`received ${N} files`), 'the CLI stages several files at once and counts every one');
    const orm = await openDatabase(loadConfig(env));
    const em = orm.em.fork() as EntityManager;
    const atKill = await em.count(SubmissionFile, { state: { $in: ['INDEXED', 'QUARANTINED', 'DUPLICATE'] } as any });
    await orm.close(true);
    assert.ok(atKill >= killedAt, `the run had recorded ${atKill} files as done when it said ${killedAt}`);
    assert.ok(atKill < N, 'the kill came after the run had finished; the test proves nothing');

    const app = await startTestApp({ db });
    try {
      const curator = await app.token('curator-1', Role.CURATOR);
      const id = /submission (\d+)/.exec(stderr)![1]!;
      const result = await processToEnd(app, curator, id);
      assert.deepEqual(result, { ingested: N, quarantined: 0, duplicates: 0, pending: 0, unmatchedClinicalRecords: 0 });
      const s = await fetchSubmission(app, curator, id);
      assert.equal(s.files.length, N);
      assert.ok(s.files.every((f: any) => f.state === 'INDEXED'));
      assert.equal(new Set(s.files.map((f: any) => f.imageUid)).size, N);
      assert.equal(await imageCountsAgree(app.orm.em.fork() as EntityManager, s.collection.accession), N);
    } finally {
      await app.stop();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
