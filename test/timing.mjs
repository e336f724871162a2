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

const out = process.env.OBIA_TEST_TIMINGS;
const file = process.argv[1];

/** CPU-ms of this process and of its waited-for children, from /proc (Linux); children 0 elsewhere. */
export function cpuMs() {
  try {
    // Fields after the command name (which may hold spaces): utime is the 14th field, cstime the 17th.
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const tick = 10; // USER_HZ is 100 on Linux
    return { self: (Number(fields[11]) + Number(fields[12])) * tick, children: (Number(fields[13]) + Number(fields[14])) * tick };
  } catch {
    const cpu = process.cpuUsage();
    return { self: Math.round((cpu.user + cpu.system) / 1000), children: 0 };
  }
}

// Worker threads inherit the flags and argv; the process's line is written by its main thread only.
if (out && isMainThread && file?.endsWith('.test.js')) {
  process.on('exit', () => {
    const cpu = cpuMs();
    fs.appendFileSync(out, `${JSON.stringify({ file, process: true, wallMs: Math.round(performance.now()), cpuMs: cpu.self, childCpuMs: cpu.children })}\n`);
  });
}
