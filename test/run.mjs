// `npm test`: every test on the embedded SQLite database, and again on MariaDB but for the files that
// declare they need not (test/support/once.ts). Under CI (CI=true) an unreachable MariaDB fails the run instead of skipping.
//
// Where the time went (issue 14, measured): ≈ 2.4 CPU-s of every test-file process was loading
// modules and ≈ 0.7 CPU-s warming up the first app, for 165 processes; on MariaDB each app's
// migrations were 5–11 s of DDL wall time. So:
//  - test files that took under GROUP_MS last time share a process, in groups of about GROUP_MS: a
//    generated entry requires each file inside a describe() of its own, so each file's top-level
//    before/after hooks and tests stay scoped to that file, files run one after another, and one
//    file failing still lets the others run and report. Long files (browser journeys, the seeded
//    archive, Ceph) keep a process of their own: loading modules is a small part of their time.
//  - processes start longest first (last run's times, kept in dist/.test-timings.json), so the
//    long ones do not finish alone at the end.
//  - the two passes run at the same time, in one pool of processes that takes the longest unit of
//    either pass first: the MariaDB pass waits on the database server much of the time, and the
//    SQLite pass fills the cores meanwhile. With a pool per pass the SQLite pass (which also runs
//    the once-only files) went on alone for ≈ 90 s after the MariaDB pass had ended. Each
//    process's output prints whole when it ends.
//  - MariaDB test apps copy one migrated template schema (test/support/template.ts).
//  - a file that never opens a database (noDatabase) or whose subject does not depend on it
//    (runsOnce) says so at its top level (test/support/once.ts) and runs in the SQLite pass only.
//  - the default archive of real images is seeded once, by a process that starts with the SQLite
//    pass; the files that need it work on copies (test/support/seededArchive.ts). The MariaDB pass's
//    is the same archive moved into MariaDB (src/db/copy.ts): seeding it again cost 28 CPU-s.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const compiled = path.join(root, 'dist/test');
// A file that took at least this long last time (or is in SOLO) gets a process of its own; shorter
// ones are packed into groups of about this long.
// Times recorded on a busy machine are all longer, so the size grows with the pass's total: an
// eighth of it, never under 40 s (OBIA_TEST_GROUP_MS fixes it). Every process loads the app's
// modules again (≈ 2.5 CPU-s): 8 groups' worth a pass gave 36 processes a run.
const GROUP_MS_FIXED = Number(process.env.OBIA_TEST_GROUP_MS) || 0;
const GROUP_MS_MIN = 40_000;
// Always a process of their own: they drive a browser through OHIF or the portal's journeys, or Ceph,
// or work on the seeded archive, and are long whatever the machine; loading modules is a small part
// of their time.
const SOLO = ['portal/journeys', 'seed/defaultArchive', 'storage/s3', 'dicomweb/viewer'];
// Guess for a file never timed: about the median file.
const UNTIMED_MS = 6_000;

function files(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.test.js')).map((f) => path.join(dir, f)).sort();
}

function mariadbReachable() {
  return new Promise((resolve) => {
    const socket = net.connect(3306, '127.0.0.1');
    socket.once('connect', () => { socket.end(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
  });
}

const timingHook = path.join(root, 'test/timing.mjs');
// Test processes at once, both passes together. Each file has its own database and data folder, so
// any number is safe (OBIA_TEST_CONCURRENCY to measure another). 3 keeps this machine kind's 2 cores
// busy (97.5 % of the machine's CPU time in a run) while some processes wait on browsers and MariaDB,
// and spends less CPU than 4 competing for them: two runs of each, back to back in both orders, took
// 350.5 and 376.9 s with 3 against 354.9 and 406.7 s with 4, and 3 % and 9 % less of the machine's CPU.
const concurrency = Number(process.env.OBIA_TEST_CONCURRENCY) || 3;
// Seeded apps share the pool of real images' hash codes (seeds/poolCodes.ts), computed once per run.
const poolCodesCache = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-pool-codes-'));
const groupsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-groups-'));
const cleanups = [() => fs.rmSync(poolCodesCache, { recursive: true, force: true }), () => fs.rmSync(groupsDir, { recursive: true, force: true })];
process.on('exit', () => { for (const c of cleanups) c(); });
// Run-level things that need a connection to undo (the MariaDB template), undone on Ctrl-C as well.
const asyncCleanups = [];
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { Promise.allSettled(asyncCleanups.map((c) => c())).finally(() => process.exit(130)); });
}

const historyFile = path.join(root, 'dist/.test-timings.json');
// A checkout with no run of its own yet (CI's clean clone, a new machine) plans with the committed
// times of a full run (test/timings.json: dist/.test-timings.json copied after `npm test` on this
// machine kind). Without them every file weighs the same, so groups are packed by count and a
// group that happens to hold several slow files can finish long after the rest.
const committedTimings = path.join(root, 'test/timings.json');
const readJson = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const history = readJson(historyFile) ?? readJson(committedTimings) ?? {};
const rel = (f) => path.relative(compiled, f);

/**
 * The pass's processes, longest first: solo test files, and generated entries that run several
 * short files one after another (first-fit decreasing by last run's wall time).
 */
function plan(db, testFiles) {
  const last = history[db] ?? {};
  const total = testFiles.reduce((s, f) => s + (last[rel(f)] ?? UNTIMED_MS), 0);
  const GROUP_MS = GROUP_MS_FIXED || Math.max(GROUP_MS_MIN, total / 8);
  const solo = (f) => SOLO.some((s) => rel(f).startsWith(s));
  // Solo files untimed so far start first.
  const weight = (f) => last[rel(f)] ?? (solo(f) ? 10 * GROUP_MS : UNTIMED_MS);
  const sorted = [...testFiles].sort((a, b) => weight(b) - weight(a));
  const units = [];
  const groups = [];
  for (const f of sorted) {
    if (solo(f) || weight(f) >= GROUP_MS) { units.push({ file: f, ms: weight(f) }); continue; }
    const g = groups.find((x) => x.ms + weight(f) <= GROUP_MS);
    if (g) { g.files.push(f); g.ms += weight(f); } else groups.push({ files: [f], ms: weight(f) });
  }
  const grouped = [];
  groups.forEach((g, i) => {
    if (g.files.length === 1) { units.push({ file: g.files[0], ms: g.ms }); return; }
    const entry = path.join(groupsDir, `${db}-group-${String(i + 1).padStart(2, '0')}.test.js`);
    fs.writeFileSync(entry, groupEntry(g.files));
    units.push({ file: entry, ms: g.ms });
    grouped.push({ entry, files: g.files });
  });
  return { units: units.sort((a, b) => b.ms - a.ms), grouped };
}

function groupEntry(testFiles) {
  return `'use strict';
// Generated by test/run.mjs: these test files in one process, one after another. Each file's
// tests and top-level hooks register inside its own describe() (require() runs the file while the
// suite is being built), so they are scoped to that file as if it had a process of its own.
const { after, before, describe } = require('node:test');
const fs = require('node:fs');
const out = process.env.OBIA_TEST_TIMINGS;
const { cpuMs: cpu } = require(${JSON.stringify(path.join(root, 'test/cpuTime.cjs'))});
for (const [name, file] of ${JSON.stringify(testFiles.map((f) => [rel(f), f]))}) {
  describe(name, () => {
    let wall0 = 0; let cpu0;
    before(() => { wall0 = performance.now(); cpu0 = cpu(); });
    require(file);
    after(() => {
      const c = cpu();
      if (out) fs.appendFileSync(out, JSON.stringify({ file, wallMs: Math.round(performance.now() - wall0), cpuMs: c.self - cpu0.self, childCpuMs: c.children - cpu0.children }) + '\\n');
    });
  });
}
`;
}

/** Lines from test/timing.mjs (one per process) and from group entries (one per grouped file). */
function timings(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function printSlowest(label, rows, wallMs, processes) {
  const procs = rows.filter((r) => r.process);
  const sum = (xs, k) => xs.reduce((s, r) => s + (r[k] ?? 0), 0);
  const cpu = sum(procs, 'cpuMs') + sum(procs, 'childCpuMs');
  const fileWall = sum(procs, 'wallMs');
  const perFile = rows.filter((r) => !r.file.startsWith(groupsDir));
  // A group's process CPU not spent inside one of its files: loading modules, the runner's hooks.
  const groupOverhead = sum(procs.filter((r) => r.file.startsWith(groupsDir)), 'cpuMs') - sum(rows.filter((r) => !r.process), 'cpuMs');
  const top = [...perFile].sort((a, b) => (b.cpuMs + (b.childCpuMs ?? 0)) - (a.cpuMs + (a.childCpuMs ?? 0)));
  const s = (ms) => (ms / 1000).toFixed(1).padStart(7);
  const lines = [`\n--- ${label}: ${(wallMs / 1000).toFixed(1)} s wall; ${processes} test processes ${(cpu / 1000).toFixed(1)} CPU-s (children included), ${(fileWall / 1000).toFixed(1)} process-s; groups' processes outside their files ${(groupOverhead / 1000).toFixed(1)} CPU-s ---`,
    '  CPU-s  (self + children)   wall s  file (grouped files: from their first hook to their last; a solo file: its whole process)'];
  for (const r of top.slice(0, Number(process.env.OBIA_TEST_SLOWEST ?? 20))) {
    lines.push(`${s(r.cpuMs + (r.childCpuMs ?? 0))} (${s(r.cpuMs)} +${s(r.childCpuMs ?? 0)}) ${s(r.wallMs)}  ${r.process ? '' : '[g] '}${rel(r.file)}`);
  }
  return { text: lines.join('\n'), perFile, cpuMs: cpu };
}

/**
 * One `node --test` process for one unit (a test file, or a group entry); resolves with its exit
 * code, counts and output (stdout and stderr, held so that a unit's lines print together).
 */
function nodeTest(unit, env) {
  return new Promise((resolve) => {
    // --test-force-exit: a file whose setup failed before it could stop its app (open servers, worker
    // threads) still ends, and is reported, instead of holding the whole run open.
    const child = spawn(process.execPath, ['--import', timingHook, '--test', '--test-force-exit', '--test-reporter=spec', unit], {
      cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.stderr.on('data', (d) => { text += d; });
    child.on('close', (code, signal) => {
      const count = (name) => Number((text.match(new RegExp(`^ℹ ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      // A cancelled test (its process's event loop emptied while it awaited, or its file's hook failed) counts as failed.
      resolve({ code: code ?? (signal ? 1 : 0), pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped'), text });
    });
  });
}

const sourceOf = (f) => path.join(root, 'test', rel(f).replace(/\.js$/, '.ts'));
const readSource = (f) => (fs.existsSync(sourceOf(f)) ? fs.readFileSync(sourceOf(f), 'utf8') : '');

/**
 * The pass's copy of the default archive (test/support/seededArchive.ts): seeded by a process of its
 * own that starts with the pass, when one of its files asks for it (startSeededApp). `done` resolves
 * once the seeding process has ended and its outcome is written; `drop` removes the archive.
 */
function seedSharedArchive(db, testFiles, env, copyOf) {
  if (!testFiles.some((f) => readSource(f).includes('startSeededApp('))) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `obia-test-seeded-${db}-`));
  const ready = path.join(dir, 'ready.json');
  const args = [path.join(compiled, 'support/seededArchive.js'), dir, ...(copyOf ? [copyOf.dir] : [])];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const done = new Promise((resolve) => child.on('close', (code, signal) => {
    // A process that died before writing its outcome: the waiting tests fail with this instead of hanging.
    if (!fs.existsSync(ready)) fs.writeFileSync(ready, JSON.stringify({ error: `the seeding process ended (${signal ?? code}) without an outcome` }));
    resolve(JSON.parse(fs.readFileSync(ready, 'utf8')));
  }));
  let dropped = null;
  return {
    dir, done,
    drop: () => (dropped ??= (async () => {
      const outcome = await done;
      if (outcome.db) await createRequire(import.meta.url)(path.join(compiled, 'support/database.js')).dropTestDatabase(outcome.db);
      fs.rmSync(dir, { recursive: true, force: true });
    })()),
  };
}

/**
 * A pass: its planned units, its environment (database, timings file, seeded archive) and what its
 * processes reported. Units of both passes share one pool (runUnits).
 */
function preparePass(label, db, testFiles, env, copySeededOf = null) {
  const { units, grouped } = plan(db, testFiles);
  const timingFile = path.join(os.tmpdir(), `obia-test-timings-${process.pid}-${db}.jsonl`);
  fs.rmSync(timingFile, { force: true });
  const seeded = seedSharedArchive(db, testFiles, env, copySeededOf?.seeded);
  if (seeded) asyncCleanups.push(seeded.drop);
  return {
    label, db, testFiles, timingFile, seeded, units,
    groupOf: (entry) => grouped.find((g) => g.entry === entry)?.files ?? null,
    env: { ...env, OBIA_TEST_TIMINGS: timingFile, OBIA_POOL_CODES_CACHE: poolCodesCache, ...(seeded ? { OBIA_TEST_SEEDED_ARCHIVE: seeded.dir } : {}) },
    result: { code: 0, pass: 0, fail: 0, skipped: 0 },
    processes: 0, started: 0, ended: 0,
  };
}

/**
 * Runs the units of every pass in one pool of `concurrency` processes, longest first whatever the
 * pass: with a pool per pass, the pass that had more work (SQLite runs the files that run once as
 * well) went on alone on a half-idle machine long after the other had ended. Each unit's output is
 * printed whole when it ends, with its pass.
 */
async function runUnits(passes) {
  const queue = passes.flatMap((p) => p.units.map((u) => ({ ...u, pass: p }))).sort((a, b) => b.ms - a.ms);
  let done = 0; let total = queue.length;
  const t0 = performance.now();
  const at = (t) => ((t - t0) / 1000).toFixed(0);
  async function runOne({ file, pass }) {
    pass.processes++;
    const began = performance.now();
    pass.started ||= began;
    const r = await nodeTest(file, pass.env);
    done++;
    pass.ended = performance.now();
    for (const k of ['pass', 'fail', 'skipped']) pass.result[k] += r[k];
    pass.result.code ||= r.code;
    const group = pass.groupOf(file);
    const name = group ? `${path.basename(file, '.test.js')} (${group.length} files)` : rel(file);
    process.stdout.write(`\n▶ [${done}/${total}, ${at(began)}–${at(pass.ended)} s] ${pass.label}: ${name}: ${r.pass} passed, ${r.fail} failed${r.code ? `, exit ${r.code}` : ''}\n${r.text}`);
    // A grouped file whose last hook never ran was cut short with its process (a crash, an exit),
    // and node --test then reports only the process's failure, not the results of the group's other
    // files: every file of that group runs again, each in a process of its own, first in the queue,
    // so one file cannot hide the others' results. The group's failure is counted all the same.
    if (group) {
      const finished = new Set(timings(pass.timingFile).map((t) => t.file));
      if (group.some((f) => !finished.has(f))) {
        process.stdout.write(`\n=== ${pass.label}: ${name} ended early; its ${group.length} files again, each in a process of its own ===\n`);
        queue.unshift(...group.map((f) => ({ file: f, pass })));
        total += group.length;
      }
    }
  }
  // `concurrency` lanes, each taking the next unit as it finishes one.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (queue.length) await runOne(queue.shift());
  }));
}

/** After the pool: the pass's summary, its seeded archive dropped, its times kept for the next plan. */
async function finishPass(pass) {
  const slowest = printSlowest(pass.label, timings(pass.timingFile), pass.ended - pass.started, pass.processes);
  fs.rmSync(pass.timingFile, { force: true });
  process.stdout.write(`${slowest.text}\n`);
  pass.result.cpuMs = slowest.cpuMs;
  if (pass.seeded) {
    const outcome = await pass.seeded.done;
    await pass.seeded.drop();
    process.stdout.write(outcome.db ? `the pass's default archive: ${outcome.how === 'copied' ? "the SQLite pass's, copied into this database" : 'seeded once'}, ${(outcome.cpuMs / 1000).toFixed(1)} CPU-s, for the files that copy it\n` : `seeding the pass's default archive failed: ${outcome.error}\n`);
    pass.result.cpuMs += outcome.cpuMs ?? 0;
  }
  history[pass.db] = { ...history[pass.db], ...Object.fromEntries(slowest.perFile.map((r) => [rel(r.file), r.wallMs])) };
  return pass.result;
}

const only = process.argv.slice(2);
// test/deployment/ starts the whole scaled-out archive (Ceph, MariaDB primary and replica, …): `npm run test:deployment` runs it, after `npm test`.
const OWN_RUN = ['deployment'];
const all = files(compiled).filter((f) => !OWN_RUN.includes(rel(f).split(path.sep)[0]))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
// Every file runs on both databases but those that declare at their top level that they never open
// one (noDatabase) or that what they test does not depend on it (runsOnce): test/support/once.ts.
const declaration = (f) => readSource(f).match(/^(noDatabase|runsOnce)\(/m)?.[1] ?? null;
const once = new Map(all.map((f) => [f, declaration(f)]).filter(([, d]) => d));
const dbFiles = all.filter((f) => !once.has(f));
if (once.size) {
  const count = (d) => [...once.values()].filter((x) => x === d).length;
  console.log(`${once.size} test files run in the SQLite pass only: ${count('noDatabase')} open no database (noDatabase), ${count('runsOnce')} test what does not depend on it (runsOnce)`);
}

/**
 * The whole machine's busy CPU time so far (user, nice, system, irq, softirq; /proc/stat, Linux; null
 * elsewhere). The test processes' own accounting misses what they do not wait for: Chromium's
 * renderer and GPU processes (their zygote is not the test's child), the Ceph daemons of
 * storage/s3, the MariaDB server, the kernel; the run's last line sets the two side by side.
 */
function machineCpuMs() {
  try {
    const [user, nice, system, , , irq, softirq] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) * 10; // USER_HZ 100
  } catch {
    return null;
  }
}

const started = performance.now();
const machine0 = machineCpuMs();
const failures = [];
// The SQLite pass's seeding starts at once; the MariaDB pass needs its migrated template first (a
// few seconds of DDL), and every unit waits for that so that the pool starts longest first.
const passes = [preparePass('SQLite (embedded)', 'sqlite', all, { OBIA_TEST_DB: 'sqlite' })];
let dropTemplate = async () => {};
if (dbFiles.length) {
  if (await mariadbReachable()) {
    const { makeMysqlTemplate } = createRequire(import.meta.url)(path.join(root, 'dist/test/support/template.js'));
    const template = await makeMysqlTemplate();
    // Dropped at the end of the run, or if it is interrupted.
    let dropped = false;
    dropTemplate = async () => { if (!dropped) { dropped = true; await template.drop(); } };
    asyncCleanups.push(dropTemplate);
    // Its default archive is the SQLite pass's, copied row by row into MariaDB (src/db/copy.ts).
    passes.push(preparePass('MariaDB (127.0.0.1:3306)', 'mysql', dbFiles, { OBIA_TEST_DB: 'mysql', OBIA_TEST_MYSQL_TEMPLATE: template.name }, passes[0]));
  } else if (process.env.CI === 'true') {
    console.error('MariaDB is not reachable at 127.0.0.1:3306; under CI that fails the run.');
    failures.push({ code: 1, pass: 0, fail: 1, skipped: 0 });
  } else {
    console.warn('MariaDB is not reachable at 127.0.0.1:3306: skipping the MariaDB pass (it is required under CI=true).');
  }
}
for (const p of passes) console.log(`\n=== ${p.label}: ${p.testFiles.length} test files in ${p.units.length} processes ===`);
console.log(`(both passes share ${concurrency} processes at a time, longest first)`);
let results;
try {
  await runUnits(passes);
  results = [...failures];
  for (const p of passes) results.push(await finishPass(p));
} finally {
  await dropTemplate();
}

fs.writeFileSync(historyFile, JSON.stringify(history, null, 1));
const pass = results.reduce((s, r) => s + r.pass, 0);
const fail = results.reduce((s, r) => s + r.fail, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
const testCpu = results.reduce((s, r) => s + (r.cpuMs ?? 0), 0);
const own = process.cpuUsage();
const machine1 = machineCpuMs();
const outside = machine0 === null || machine1 === null ? ''
  : `; the machine ${((machine1 - machine0) / 1000).toFixed(1)} CPU-s in all (the rest: browsers' renderer processes, daemons the tests started, the database server, the kernel, anything else running)`;
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s for both passes; test processes ${(testCpu / 1000).toFixed(1)} CPU-s (children included), the runner ${((own.user + own.system) / 1e6).toFixed(1)} CPU-s${outside}`);
// Alone on its line: CI reads the run's result from it.
console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(results.every((r) => r.code === 0) && fail === 0 ? 0 : 1);
