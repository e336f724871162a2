// The processes of a scaled-out archive for the scale tests (issue 18): hub replicas
// (test/scale/hub.ts) and ingest workers (the compiled `npm run worker` entry), each forked with
// an IPC channel so it reports readiness as an event and stops when the test lets go of it; and
// a graphql-ws subscriber whose waits settle on arrival, not on a timer.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A replica process of the same archive; resolves with its URL once it serves. */
export function startReplica(config: Record<string, unknown>): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(path.join(__dirname, 'hub.js'), [], { env: { ...process.env, OBIA_TEST_HUB_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => resolve({ url: m.url, child }));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code} before serving`)));
  });
}

/** An `npm run worker` process (dist/src/jobs/worker.js) with the given environment; resolves once it takes jobs. */
export function startWorker(env: Record<string, string>, onMessage: (m: any) => void = () => {}): Promise<ChildProcess> {
  const entry = path.join(__dirname, '../../src/jobs/worker.js');
  const child = fork(entry, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', onMessage);
  return new Promise((resolve, reject) => {
    const onReady = (m: any) => { if (m?.ready) { child.off('message', onReady); resolve(child); } };
    child.on('message', onReady);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready`)));
  });
}

/** Lets go of a forked process (it stops on disconnect) and waits for it to exit; a killed one is only awaited. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (child.connected) child.disconnect(); else child.kill('SIGTERM');
  await exited;
}

/** Events a graphql-ws subscriber received, and a wait for one that settles on arrival, not on a timer. */
export function subscriber(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const client: Client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  const events: any[] = [];
  const waiters = new Set<() => void>();
  client.subscribe({ query, variables }, {
    next: (v) => { events.push(v); for (const w of waiters) w(); },
    error: (e) => { events.push({ error: e }); for (const w of waiters) w(); },
    complete: () => {},
  });
  return {
    client, events,
    waitFor(check: (events: any[]) => boolean, what: string, ms = 15_000): Promise<void> {
      if (check(events)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events).slice(-400)}`)); }, ms);
        const w = () => { if (check(events)) { clearTimeout(timer); waiters.delete(w); resolve(); } };
        waiters.add(w);
      });
    },
  };
}
