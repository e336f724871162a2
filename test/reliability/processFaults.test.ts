import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runsOnce } from '../support/once.js';

runsOnce('the process-level fault policy of `npm start` (src/server.ts), not the database: the hub runs on an embedded SQLite of its own');

// Regression: src/server.ts installed no process-level handler, so under Node 20's default one
// promise rejection nobody awaited, anywhere, ended the hub (exit 1) and every request in flight.

/** Preloaded into the hub: on an IPC message it makes a fault no code path catches. */
const PRELOAD = `
process.on('message', (m) => {
  if (m === 'reject') void Promise.reject(new Error('stray rejection'));
  if (m === 'reject-value') void Promise.reject({ PatientName: 'DOE^JANE', note: 'MRN 12345' });
  if (m === 'throw') setImmediate(() => { throw new Error('uncaught in a callback'); });
});
`;

interface Hub { child: ChildProcess; url: string; lines: string[]; exited: Promise<number | null>; waitFor(re: RegExp): Promise<string> }

function startHub(dir: string, preload: string): Promise<Hub> {
  const env: NodeJS.ProcessEnv = { ...process.env, OBIA_DATA_DIR: dir, OBIA_SEED: '0', PORT: '0', HOST: '127.0.0.1', OBIA_LOG_LEVEL: 'info' };
  for (const k of ['DATABASE_URL', 'OBIA_DATABASE_REPLICAS', 'OBIA_REDIS_URL', 'OBIA_JOBS', 'OIDC_JWKS_URL', 'OBIA_TEST_NO_DATABASE', 'NODE_OPTIONS']) delete env[k];
  const child = fork(path.resolve(__dirname, '../../src/server.js'), [], { env, execArgv: ['--require', preload], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<string>((resolve) => waiters.push({ re, resolve })),
      exited.then((code) => { throw new Error(`the hub exited (${code}) before logging ${re}:\n${lines.join('\n')}`); }),
    ]);
  };
  return waitFor(/GraphQL at http/).then((line) => ({ child, lines, exited, waitFor, url: /GraphQL at (http:\/\/\S+)\/graphql/.exec(line)![1]! }));
}

describe('process-level faults in the hub (npm start)', () => {
  let dir: string;
  let preload: string;
  let hub: Hub | null = null;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-faults-'));
    preload = path.join(dir, 'preload.cjs');
    fs.writeFileSync(preload, PRELOAD);
  });
  after(async () => {
    if (hub && hub.child.exitCode === null) { hub.child.kill('SIGKILL'); await hub.exited; }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs an unhandled rejection (redacted) and keeps serving; an uncaught exception drains and exits 1', async () => {
    hub = await startHub(path.join(dir, 'data'), preload);
    hub.child.send('reject');
    hub.child.send('reject-value');
    await hub.waitFor(/unhandled promise rejection/);
    const logged = await hub.waitFor(/unhandled promise rejection.*"type":"object"|"type":"object".*unhandled promise rejection/);
    assert.doesNotMatch(hub.lines.join('\n'), /DOE\^JANE|MRN 12345/, 'a rejection value is logged by its type, never its contents');
    assert.match(logged, /"level":50/);
    // Still serving, GraphQL included.
    const res = await fetch(`${hub.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { data: { __typename: 'Query' } });

    hub.child.send('throw');
    const code = await hub.exited;
    assert.equal(code, 1, 'an uncaught exception ends the process non-zero, for the supervisor to restart it');
    assert.ok(hub.lines.some((l) => /"level":60/.test(l) && /uncaught exception: draining/.test(l)), 'logged as fatal through the structured logger before exiting');
  });
});
