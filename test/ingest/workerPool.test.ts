// The worker pool (piscina): one shared queue; a worker that dies without an 'error' event is
// replaced and its task is retried once on another worker, visibly (logged), then fails as a
// CpuTaskError the pipeline quarantines; close() rejects what is still queued and lets what is
// running finish. The threads are the process's: every pipeline (every archive the process opens)
// uses the same ones, and closing one pipeline leaves another's tasks working.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CpuPool, CpuTaskError } from '../../src/ingest/cpuTasks.js';
import { logger, tapLog } from '../../src/log.js';
import { noDatabase } from '../support/once.js';

noDatabase('the worker pool on its own');

const DYING = path.join(__dirname, 'fixtures/dyingWorker.js');

/** Resolves once `file` exists (the fixture worker writes it). */
async function appears(file: string): Promise<void> {
  const watcher = fs.watch(path.dirname(file));
  try {
    const seen = new Promise<void>((resolve) => watcher.on('change', () => { if (fs.existsSync(file)) resolve(); }));
    if (!fs.existsSync(file)) await seen;
  } finally {
    watcher.close();
  }
}

describe('the ingest worker pool', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-pool-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('retries a task whose worker died once, and says so in the log', async () => {
    const lines: string[] = [];
    const untap = tapLog((l) => lines.push(l));
    const pool = new CpuPool(2, logger, DYING);
    try {
      const identity = await pool.identify(path.join(dir, 'die-once'));
      assert.equal(identity.sopInstanceUid, '1.4');
      assert.ok(lines.some((l) => /worker thread died; its task is retried/.test(l)), lines.join(''));
    } finally {
      untap();
      await pool.close();
    }
  });

  it('fails a task whose worker dies twice, and keeps serving the others', async () => {
    const pool = new CpuPool(2, logger, DYING);
    try {
      await assert.rejects(pool.identify(path.join(dir, 'die-always')), (e: unknown) => e instanceof CpuTaskError && e.kind === 'died');
      // The dead workers were replaced: the queue goes on.
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.identify(path.join(dir, `fine-${i}`))));
      assert.equal(answers.length, 6);
    } finally {
      await pool.close();
    }
  });

  it('close() rejects queued tasks instead of leaving them pending', async () => {
    const pool = new CpuPool(1, logger, DYING);
    const queued = Array.from({ length: 20 }, (_, i) => pool.identify(path.join(dir, `queued-${i}`)).then(() => 'done', (e) => e));
    await pool.close();
    const outcomes = await Promise.all(queued);
    assert.ok(outcomes.every((o) => o === 'done' || o instanceof CpuTaskError), String(outcomes.find((o) => o !== 'done')));
    assert.ok(outcomes.some((o) => o instanceof CpuTaskError), 'some tasks were still queued at close');
  });

  it('close() lets a task that is running finish, and fails only what was still queued', async () => {
    const pool = new CpuPool(1, logger, DYING);
    const holding = path.join(dir, 'until-closed');
    try {
      const running = pool.identify(holding).then(() => 'done', (e) => e);
      await appears(`${holding}.started`);
      const queued = Array.from({ length: 5 }, (_, i) => pool.identify(path.join(dir, `behind-${i}`)).then(() => 'done', (e) => e));
      await pool.close();
      // Cut short, its file would have to be screened, de-identified and stored again.
      assert.equal(await running, 'done', `the running task was cut short: ${await running}`);
      for (const o of await Promise.all(queued)) assert.ok(o instanceof CpuTaskError, `a queued task ran after close: ${o}`);
    } finally {
      await pool.close();
    }
  });

  it('is one set of threads for every pipeline of the process: a second pipeline starts none, and closing one leaves the other working', async () => {
    const first = new CpuPool(2, logger, DYING);
    const second = new CpuPool(2, logger, DYING);
    const threads = async (pool: CpuPool, tag: string) =>
      new Set((await Promise.all(Array.from({ length: 8 }, (_, i) => pool.identify(path.join(dir, `fine-${tag}-${i}`))))).map((x) => x.patientId));
    try {
      const firsts = await threads(first, 'first');
      const seconds = await threads(second, 'second');
      assert.ok([...seconds].every((t) => firsts.has(t)), `the second pipeline's tasks ran on threads of their own: ${[...seconds]} against ${[...firsts]}`);

      const queuedFirst = Array.from({ length: 20 }, (_, i) => first.identify(path.join(dir, `closing-${i}`)).then(() => 'done', (e) => e));
      const queuedSecond = Array.from({ length: 20 }, (_, i) => second.identify(path.join(dir, `going-on-${i}`)).then(() => 'done', (e) => e));
      await first.close();
      assert.ok((await Promise.all(queuedFirst)).every((o) => o === 'done' || o instanceof CpuTaskError));
      assert.deepEqual(await Promise.all(queuedSecond), Array(20).fill('done'), 'closing one pipeline failed tasks of another');
      assert.equal((await second.identify(path.join(dir, 'after-close'))).sopInstanceUid, '1.4');
    } finally {
      await first.close();
      await second.close();
    }
  });
});
