// Loaded into every test-file process by test/run.mjs (`--import`): when the file's process ends it
// appends one line — the file (a test file, or test/run.mjs's entry for a group of them), its wall
// time from process start, the CPU time of the process (user + system, all threads, worker threads
// included) and the CPU time of the child processes it waited for (browsers, Orthanc, dciodvfy,
// CLIs, its own database servers) — to the file named by OBIA_TEST_TIMINGS.
// Node 20's reporters give per-test durations only, not a file's setup and teardown, which is where
// the time of an app-per-file suite goes.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { cpuMs } from './cpuTime.cjs';

const out = process.env.OBIA_TEST_TIMINGS;
const file = process.argv[1];

// Worker threads inherit the flags and argv; the process's line is written by its main thread only.
if (out && isMainThread && file?.endsWith('.test.js')) {
  process.on('exit', () => {
    const cpu = cpuMs();
    fs.appendFileSync(out, `${JSON.stringify({ file, process: true, wallMs: Math.round(performance.now()), cpuMs: cpu.self, childCpuMs: cpu.children })}\n`);
  });
}
