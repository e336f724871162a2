// Loaded into every test-file process by test/run.mjs (`--import`): when the file's process ends it
// appends one line — the file (a test file, or test/run.mjs's entry for a group of them), its wall
// time from process start, and the CPU time (user + system, all threads of the process, worker
// threads included) — to the file named by OBIA_TEST_TIMINGS.
// Node 20's reporters give per-test durations only, not a file's setup and teardown, which is where
// the time of an app-per-file suite goes.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const out = process.env.OBIA_TEST_TIMINGS;
const file = process.argv[1];
// Worker threads inherit the flags and argv; the process's line is written by its main thread only.
if (out && isMainThread && file?.endsWith('.test.js')) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    fs.appendFileSync(out, `${JSON.stringify({ file, process: true, wallMs: Math.round(performance.now()), cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
  });
}
