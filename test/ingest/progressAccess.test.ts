// submissionProgress of a submission the caller may not see was accepted and refused per event:
// the stranger's subscription stayed open and was answered an error each time the other's files
// changed state — when and how much someone else processes — and held one of the caller's
// live-operation places. Now it is refused when made (FORBIDDEN, or UNAUTHENTICATED anonymously;
// the same for an id that does not exist) and ends, as qcEvents is.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { subscriptionListening } from '../../src/http/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { subscribeLive } from '../support/live.js';
import { createSubmission, submitter } from './helpers.js';

const PROGRESS = `subscription($s: ID!) { submissionProgress(submission: $s) { state } }`;

describe('submissionProgress of a submission the caller may not see', () => {
  let app: TestApp;
  let owner: string;
  let submissionId: string;
  before(async () => {
    app = await startTestApp();
    owner = await submitter(app, 'progress-owner');
    submissionId = (await createSubmission(app, owner, { title: 'Watched' })).id;
  });
  after(async () => app?.stop());

  /**
   * What the server does with a subscribe before any change: refuses it (its error, then the end)
   * or listens (the hub's `subscriptionListening` channel says so), whatever it answered first.
   */
  const outcome = (token: string | null, s: string) => new Promise<{ kind: 'listening' | 'ended'; code?: string }>((resolve) => {
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    });
    let code: string | undefined;
    const done = (v: { kind: 'listening' | 'ended'; code?: string }) => {
      diagnostics.unsubscribe(subscriptionListening.name, onListening);
      void client.dispose();
      resolve(v);
    };
    const onListening = () => done({ kind: 'listening', code });
    diagnostics.subscribe(subscriptionListening.name, onListening);
    client.subscribe({ query: PROGRESS, variables: { s } }, {
      next: (e: any) => { code ??= e.errors?.[0]?.extensions?.code; },
      error: (e: any) => done({ kind: 'ended', code: (Array.isArray(e) ? e[0] : e)?.extensions?.code }),
      complete: () => done({ kind: 'ended', code }),
    });
  });

  it('is refused when made, and ends, for strangers, anonymous callers and absent ids alike', async () => {
    const stranger = await submitter(app, 'progress-stranger');
    for (const [token, code] of [[stranger, 'FORBIDDEN'], [null, 'UNAUTHENTICATED']] as const) {
      for (const s of [submissionId, '987654']) {
        assert.deepEqual(await outcome(token, s), { kind: 'ended', code }, `${code} for submission ${s}`);
      }
    }
  });

  it('still answers its owner, current state first', async () => {
    const own = await subscribeLive(app, owner, PROGRESS, { s: submissionId });
    try {
      const first = await own.next(() => true, 'the current state');
      assert.equal(first.data?.submissionProgress?.state, 'OPEN');
    } finally {
      await own.dispose();
    }
  });
});
