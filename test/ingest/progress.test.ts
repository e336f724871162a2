// submissionProgress over graphql-ws: a subscriber sees counts move to INDEXED while the
// pipeline runs; someone else's subscription gets an error, not the counts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, makeCt, submitter, uid, upload } from './helpers.js';

describe('submissionProgress subscription', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  function subscribe(token: string, id: string) {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    const events: any[] = [];
    // The first event (the current state, or a refusal) says the subscription is live; the end is
    // the event reading PROCESSED, or a refusal (an event with errors). Waited on, never slept for.
    let live!: () => void, over!: () => void;
    const first = new Promise<void>((r) => { live = r; });
    const end = new Promise<void>((r) => { over = r; });
    client.subscribe({ query: `subscription($id: ID!) { submissionProgress(submission: $id) { submissionId state total counts { state count } } }`, variables: { id } }, {
      next: (v: any) => { events.push(v); live(); if (v.errors || v.data?.submissionProgress?.state === 'PROCESSED') over(); },
      error: (e) => { events.push({ error: e }); live(); over(); },
      complete: () => { live(); over(); },
    });
    return { client, events, first, end };
  }

  it('streams counts per state while the submission is processed', async () => {
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    const [study, series] = [uid(), uid()];
    for (let i = 0; i < 5; i++) await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'WS-1', studyUid: study, seriesUid: series, sopUid: uid() }));
    const mine = subscribe(token, sub.id);
    const stranger = subscribe(await app.token('stranger', Role.SUBMITTER), sub.id);
    await Promise.all([mine.first, stranger.first]);
    await processToEnd(app, token, sub.id);
    await Promise.all([mine.end, stranger.end]);
    mine.client.dispose(); stranger.client.dispose();
    const payloads = mine.events.map((e) => e.data?.submissionProgress).filter(Boolean);
    assert.ok(payloads.length >= 2, `expected several progress events, got ${JSON.stringify(mine.events).slice(0, 300)}`);
    const last = payloads.at(-1);
    assert.equal(last.submissionId, sub.id);
    assert.equal(last.total, 5);
    assert.deepEqual(last.counts.find((c: any) => c.state === 'INDEXED'), { state: 'INDEXED', count: 5 });
    assert.ok(stranger.events.length > 0 && stranger.events.every((e) => !e.data?.submissionProgress), 'a stranger sees no counts');
  });
});
