// `npm test`: every test on the embedded SQLite database, then the database-backed suites
// again on MariaDB. Under CI (CI=true) an unreachable MariaDB fails the run instead of skipping.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const compiled = path.join(root, 'dist/test');
// Suites that talk to a database run on both; pure ones (DICOM, imaging, retrieval) once.
const DB_SUITES = ['api', 'db', 'ingest', 'access', 'federation', 'qc', 'seed', 'releases', 'ga4gh', 'reliability', 'dicomweb', 'storage'];

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
// Test files at once per pass. Each file has its own database and data folder, so any number is
// safe; 2 matches this machine kind's 2 cores (OBIA_TEST_CONCURRENCY to measure another).
const concurrency = Number(process.env.OBIA_TEST_CONCURRENCY) || 2;
// Seeded apps share the pool of real images' hash codes (seeds/poolCodes.ts), computed once per run.
const poolCodesCache = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-pool-codes-'));
process.on('exit', () => fs.rmSync(poolCodesCache, { recursive: true, force: true }));

/** Per-file wall and CPU figures of a pass (from test/timing.mjs), slowest first. */
function timings(file) {
  if (!fs.existsSync(file)) return [];
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  fs.rmSync(file, { force: true });
  return rows.sort((a, b) => b.wallMs - a.wallMs);
}

function printSlowest(label, rows, wallMs) {
  const cpu = rows.reduce((s, r) => s + r.cpuMs, 0);
  const fileWall = rows.reduce((s, r) => s + r.wallMs, 0);
  console.log(`\n--- ${label}: ${(wallMs / 1000).toFixed(1)} s wall; test-file processes ${(cpu / 1000).toFixed(1)} CPU-s, ${(fileWall / 1000).toFixed(1)} file-s; slowest files ---`);
  for (const r of rows.slice(0, Number(process.env.OBIA_TEST_SLOWEST ?? 15))) {
    console.log(`${(r.wallMs / 1000).toFixed(1).padStart(7)} s wall ${(r.cpuMs / 1000).toFixed(1).padStart(7)} CPU-s  ${path.relative(compiled, r.file)}`);
  }
}

function run(label, testFiles, env) {
  return new Promise((resolve) => {
    console.log(`\n=== ${label}: ${testFiles.length} test files ===`);
    const timingFile = path.join(os.tmpdir(), `obia-test-timings-${process.pid}-${env.OBIA_TEST_DB}.jsonl`);
    fs.rmSync(timingFile, { force: true });
    const started = performance.now();
    // --test-force-exit: a file whose setup failed before it could stop its app (open servers, worker
    // threads) still ends, and is reported, instead of holding the whole run open.
    const child = spawn(process.execPath, ['--import', timingHook, '--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-reporter=spec', ...testFiles], {
      cwd: root, env: { ...process.env, ...env, OBIA_TEST_TIMINGS: timingFile, OBIA_POOL_CODES_CACHE: poolCodesCache }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('close', (code) => {
      const count = (name) => Number((out.match(new RegExp(`^ℹ ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      printSlowest(label, timings(timingFile), performance.now() - started);
      resolve({ code, pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

const only = process.argv.slice(2);
// test/deployment/ starts the whole scaled-out archive (Ceph, MariaDB primary and replica, …): `npm run test:deployment` runs it, after `npm test`.
const OWN_RUN = ['deployment'];
const all = files(compiled).filter((f) => !OWN_RUN.includes(path.relative(compiled, f).split(path.sep)[0]))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const dbFiles = all.filter((f) => DB_SUITES.includes(path.relative(compiled, f).split(path.sep)[0]));

const results = [await run('SQLite (embedded)', all, { OBIA_TEST_DB: 'sqlite' })];
if (dbFiles.length) {
  if (await mariadbReachable()) {
    results.push(await run('MariaDB (127.0.0.1:3306)', dbFiles, { OBIA_TEST_DB: 'mysql' }));
  } else if (process.env.CI === 'true') {
    console.error('MariaDB is not reachable at 127.0.0.1:3306; under CI that fails the run.');
    results.push({ code: 1, pass: 0, fail: 1, skipped: 0 });
  } else {
    console.warn('MariaDB is not reachable at 127.0.0.1:3306: skipping the MariaDB pass (it is required under CI=true).');
  }
}
const pass = results.reduce((s, r) => s + r.pass, 0);
const fail = results.reduce((s, r) => s + r.fail, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
console.log(`\n${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(results.every((r) => r.code === 0) && fail === 0 ? 0 : 1);
