// Issue 22, point 4: a killed `npm run ingest`, run again with the same command, resumes the
// same submission and lands every file once in one collection, leaving no orphan blob, no
// temporary or unrecorded received file and no submission stuck in PROCESSING. The import is
// killed (SIGKILL) several times, at moments drawn from a seeded generator, each taken from the
// progress it reports (no sleeps).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { zipSync } from 'fflate';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/orm.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { findStrays } from '../../src/storage/strays.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { makeCt, uid } from '../ingest/helpers.js';
import { mulberry32 } from '../support/random.js';

const CLI = path.resolve(__dirname, '../../src/ingest/cli.js');
const SEED = Number(process.env.OBIA_TEST_SEED ?? 22);

/** A small seeded generator, so a failing schedule of kills can be replayed. */
const random = mulberry32;

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAt: string | null }

describe('a killed offline import resumes with the same command', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const SINGLE = 90;
  const ZIPPED = 30;
  const TOTAL = SINGLE + ZIPPED;
  const args = () => [CLI, dir, '--title', 'Interrupted import', '--disease', 'test'];

  /** Runs the CLI; with `killAt`, SIGKILLs it once a progress line of that phase reaches that count. */
  function runCli(killAt: { phase: 'staged' | 'processed'; at: number; signal?: NodeJS.Signals } | null): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args(), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const run: Run = { code: null, signal: null, stdout: '', stderr: '', killedAt: null };
      let pending = '';
      child.stdout.on('data', (d) => { run.stdout += d; });
      child.stderr.on('data', (d) => {
        run.stderr += d;
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const m = /^(staged|processed) (\d+)\//.exec(line);
          if (killAt && !run.killedAt && m && m[1] === killAt.phase && Number(m[2]) >= killAt.at) {
            run.killedAt = line;
            child.kill(killAt.signal ?? 'SIGKILL');
          }
        }
      });
      child.on('exit', (code, signal) => { run.code = code; run.signal = signal; resolve(run); });
    });
  }

  before(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-resume-'));
    const patients = ['RESUME-1', 'RESUME-2', 'RESUME-3'];
    const studies = patients.map(() => ({ study: uid(), series: uid() }));
    for (let i = 0; i < SINGLE; i++) {
      const p = i % patients.length;
      fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.dcm`), makeCt({ patientId: patients[p]!, studyUid: studies[p]!.study, seriesUid: studies[p]!.series, sopUid: uid(), instanceNumber: i + 1 }));
    }
    const zipped: Record<string, Uint8Array> = {};
    for (let i = 0; i < ZIPPED; i++) zipped[`series/${i}.dcm`] = makeCt({ patientId: patients[0]!, studyUid: studies[0]!.study, seriesUid: studies[0]!.series, sopUid: uid(), instanceNumber: 1000 + i });
    fs.writeFileSync(path.join(dir, 'more.zip'), zipSync(zipped, { level: 1 }));
    env = { ...process.env, OBIA_DATA_DIR: db.dataDir, OBIA_SEED: '0', ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}) };
    delete env.OBIA_STAGING_DIR; delete env.OBIA_BACKUP_DIR; delete env.OBIA_KEYS_DIR; delete env.OBIA_ARCHIVE_SECRET;
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it(`lands every file once after SIGKILLs at seeded moments (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
    const rand = random(SEED);
    const kills: string[] = [];
    // SIGTERM while staging: the files in flight finish, and it stops, resumable.
    const termed = await runCli({ phase: 'staged', at: 10, signal: 'SIGTERM' });
    assert.equal(termed.code, 143, termed.stderr);
    assert.match(termed.stderr, /run the same command to resume submission \d+/);
    for (let round = 1; round <= 3; round++) {
      // Staging counts source files (the zip is one); processing counts received files.
      const killAt = rand() < 0.5 ? { phase: 'staged' as const, at: 1 + Math.floor(rand() * (SINGLE - 1)) } : { phase: 'processed' as const, at: 1 + Math.floor(rand() * (TOTAL - 40)) };
      const run = await runCli(killAt);
      kills.push(run.killedAt ? `${run.killedAt} (${killAt.phase} ${killAt.at})` : `not reached: ${killAt.phase} ${killAt.at}, exit ${run.code}`);
      assert.match(run.stderr, /resuming submission \d+/, 'a rerun finds the submission of the first run');
      if (!run.killedAt) assert.equal(run.code, 0, run.stderr);
    }
    t.diagnostic(`kills: ${kills.join('; ')}`);
    const last = await runCli(null);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, new RegExp(`ingested ${TOTAL}, quarantined 0, duplicates 0`), `kills: ${kills.join('; ')}\n${last.stderr}`);

    const orm = await openDatabase(loadConfig(env));
    try {
      const knex = (orm.em.fork() as EntityManager).getKnex();
      const submissions = await knex('submission').select('id', 'state', 'collection_id');
      assert.equal(submissions.length, 1, `one submission for the whole import (kills: ${kills.join('; ')})`);
      assert.notEqual(submissions[0].state, 'PROCESSING');
      assert.equal((await knex('collection').count({ n: '*' }))[0]!.n, 1, 'one collection');
      const files = await knex('submission_file').select('state', 'image_uid');
      assert.equal(files.length, TOTAL, 'each source file received once');
      assert.ok(files.every((f: any) => f.state === 'INDEXED'), JSON.stringify(files.filter((f: any) => f.state !== 'INDEXED')));
      assert.equal(new Set(files.map((f: any) => f.image_uid)).size, TOTAL);
      assert.equal(Number((await knex('image').count({ n: '*' }))[0]!.n), TOTAL, 'one image row per file');
      const config = loadConfig(env);
      const store = LocalBlobStore.fromConfig(config);
      const strays = await findStrays(knex, {
        blobRoots: [store.primaryRoot, store.backupRoot], thumbnailRoot: LocalBlobStore.thumbnailsOf(config).primaryRoot,
        stagingRoot: config.stagingDir, tmpDir: path.join(config.dataDir, 'tmp'),
      }, { minAgeMs: 0, remove: false });
      assert.deepEqual({ orphanBlobs: strays.orphanBlobs, orphanStaged: strays.orphanStaged, staleTemps: strays.staleTemps }, { orphanBlobs: [], orphanStaged: [], staleTemps: [] });
    } finally {
      await orm.close(true);
    }

    // Once finished, the same command changes nothing.
    const again = await runCli(null);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`ingested ${TOTAL}, quarantined 0, duplicates 0`));
    assert.match(again.stderr, /received 0 files \(\d+ source files received by an earlier run\)/);
  });
});
