// Issue 22, point 3 (the class of faults): a subscriber that goes away must take nothing with it.
// A submissionProgress subscription on a quiet submission outlived its closed socket — graphql-ws
// ends it with return(), which an async generator waiting for the next event queues for ever —
// so every closed connection left a listener and its request context behind and kept its place
// in the per-user limit: after 50 closed connections the user could not subscribe again.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { useTransport } from '../../src/events/pubsub.js';
import { startTestApp, type TestApp } from '../support/app.js';

const PER_USER = 3;
const ROUNDS = 3 * PER_USER;

/** Resolves once `cond()` holds, checking after each turn of the event loop; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('subscriptions of closed connections end', () => {
  // The bus over an EventTarget the test holds, so it can count who still listens.
  const target = new EventTarget();
  let app: TestApp;
  let token: string;
  let submission: string;
  const listeners = () => getEventListeners(target, `SUBMISSION_PROGRESS:${submission}`).length;

  before(async () => {
    useTransport(target);
    app = await startTestApp({ config: { limits: { ...loadConfig().limits, subscriptionsPerUser: PER_USER } } });
    token = await app.token('closing-subscriber', Role.SUBMITTER);
    const made = await app.gql('mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }', { i: { title: 'quiet submission', disease: 'none' } }, token);
    assert.equal(made.errors, undefined);
    submission = made.data.createSubmission.id;
  });
  after(async () => { await app?.stop(); useTransport(null); });

  /** Opens a connection, subscribes, reads the first event (the current state) and closes the socket. */
  async function subscribeAndLeave(): Promise<any> {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    try {
      return await new Promise((resolve, reject) => {
        client.subscribe({ query: 'subscription($id: ID!) { submissionProgress(submission: $id) { state } }', variables: { id: submission } }, {
          next: resolve, error: (err) => resolve({ errors: Array.isArray(err) ? err : [{ message: String((err as { reason?: string }).reason ?? err) }] }), complete: () => reject(new Error('ended before its first event')),
        });
      });
    } finally {
      await client.dispose();
    }
  }

  it(`frees its listener and its place: ${ROUNDS} connections in turn, with a limit of ${PER_USER} per user`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const event = await subscribeAndLeave();
      assert.equal(event.errors, undefined, `connection ${i + 1}: ${JSON.stringify(event.errors)}`);
      assert.equal(event.data.submissionProgress.state, 'OPEN');
      // Gone from the bus once the server has seen the socket close (not when another event comes).
      await until(() => listeners() === 0, `the listener of closed connection ${i + 1} to go`);
    }
  });

  it('still tells a live subscriber what happens after others left', async () => {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    try {
      const events: string[] = [];
      let seen: (() => void) | null = null;
      client.subscribe<any>({ query: 'subscription($id: ID!) { submissionProgress(submission: $id) { state } }', variables: { id: submission } }, {
        next: (e) => { events.push(e.data?.submissionProgress?.state ?? JSON.stringify(e.errors)); seen?.(); }, error: () => {}, complete: () => {},
      });
      await new Promise<void>((r) => { seen = r; });
      await until(() => listeners() === 1, 'the live subscriber to listen');
      const second = new Promise<void>((r) => { seen = r; });
      (await import('../../src/events/pubsub.js')).pubSub.publish('SUBMISSION_PROGRESS', submission, { submissionId: submission });
      await second;
      assert.deepEqual(events, ['OPEN', 'OPEN']);
    } finally {
      await client.dispose();
    }
  });
});

describe('idle graphql-ws connections', () => {
  const PER_USER_CONNECTIONS = 3;
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ config: { limits: { ...loadConfig().limits, websocketsPerUser: PER_USER_CONNECTIONS } } });
  });
  after(async () => { await app?.stop(); });

  /** Opens a raw graphql-ws connection and initialises it: 'ack', or the close code the hub answered with. */
  async function connect(token?: string): Promise<{ ws: WebSocket; outcome: 'ack' | number }> {
    const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const outcome = await new Promise<'ack' | number>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
      ws.once('message', (m) => resolve(JSON.parse(String(m)).type === 'connection_ack' ? 'ack' : -1));
      ws.once('close', (code) => resolve(code));
      ws.once('error', reject);
    });
    return { ws, outcome };
  }

  it('are bounded per user (anonymous: per address), and a closed one gives its place back', { timeout: 30_000 }, async () => {
    // Before, any number stayed open, idle and under no timeout: 3,000 from one client in a probe,
    // each a file descriptor of the hub's 20,000 (files, uploads and the database share them).
    const anonymous = [];
    for (let i = 0; i < PER_USER_CONNECTIONS; i++) {
      const c = await connect();
      assert.equal(c.outcome, 'ack');
      anonymous.push(c.ws);
    }
    const over = await connect();
    assert.equal(over.outcome, 4429, 'one over the bound is closed with 4429');

    // A signed-in user at the same address has places of their own.
    const token = await app.token('ws-user');
    const mine = await connect(token);
    assert.equal(mine.outcome, 'ack');
    mine.ws.close();

    anonymous[0]!.close();
    await until(() => app.websockets() === PER_USER_CONNECTIONS - 1, 'the closed connection to be let go');
    const again = await connect();
    assert.equal(again.outcome, 'ack');
    for (const ws of [...anonymous, again.ws]) ws.close();
    await until(() => app.websockets() === 0, 'every connection to be let go');
  });
});
