// Which database passes a test file runs in. `npm test` (test/run.mjs) runs every file on SQLite
// and again on MariaDB, except the files that declare, at their top level, one of:
//
//   noDatabase('what the file tests instead')  — it never opens a database, so a second pass would
//       run the very same code again. Checked: while its tests run, opening a MikroORM (an app, a
//       CLI, a seed) or a mysql2 connection throws, in this process and in any Node process it
//       starts, and the file fails.
//   runsOnce('why its subject does not depend on the database') — it does open one, but what it
//       tests (a browser journey, servers of its own) is not the database's; SQLite pass only.
//
// test/run.mjs reads these calls from the test's source (a line starting `noDatabase(` or
// `runsOnce(`), so a declaration is one line in the file, never a list in the runner.
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before } from 'node:test';

const GUARD_ENV = 'OBIA_TEST_NO_DATABASE';
const load = createRequire(__filename);

type Patch = { target: any; key: string; original: unknown };
let patches: Patch[] = [];

function refuse(what: string): never {
  throw new Error(`${what}: this test file declares noDatabase(${JSON.stringify(process.env[GUARD_ENV] ?? '')}) `
    + '(test/support/once.ts), so it runs in one pass only; a file that opens a database must run on both: remove the declaration');
}

function wrap(target: any, key: string, what: string): void {
  const original = target?.[key];
  if (typeof original !== 'function') return;
  patches.push({ target, key, original });
  target[key] = function refused() { refuse(what); };
}

/** Makes opening a database throw in this process. */
function install(): void {
  if (patches.length) return;
  const { MikroORM } = load('@mikro-orm/core');
  wrap(MikroORM, 'init', 'MikroORM.init');
  wrap(MikroORM, 'initSync', 'MikroORM.initSync');
  wrap(MikroORM.prototype, 'connect', 'MikroORM#connect');
  for (const id of ['mysql2', 'mysql2/promise']) {
    const mysql = load(id);
    wrap(mysql, 'createConnection', `${id}.createConnection`);
    wrap(mysql, 'createPool', `${id}.createPool`);
  }
}

function remove(): void {
  for (const p of patches.reverse()) p.target[p.key] = p.original;
  patches = [];
}

/** This file never opens a database: it runs in the SQLite pass only, and fails if it opens one. */
export function noDatabase(what: string): void {
  let nodeOptions: string | undefined;
  before(() => {
    install();
    // Node processes the tests start (CLIs) load this module first and refuse as well.
    nodeOptions = process.env.NODE_OPTIONS;
    process.env[GUARD_ENV] = what;
    process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --require ${path.join(__dirname, 'once.js')}`.trim();
  });
  after(() => {
    remove();
    delete process.env[GUARD_ENV];
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  });
}

/** This file opens a database, but what it tests does not depend on which: SQLite pass only. */
export function runsOnce(why: string): void {
  if (!why.trim()) throw new Error('runsOnce needs the reason the file runs in one pass only');
}

// Preloaded (--require, from NODE_OPTIONS) into a Node process a noDatabase file's test started. (In
// the test process itself the variable is set only while such a file runs, after every file of
// the process has been loaded.)
if (process.env[GUARD_ENV]) install();
