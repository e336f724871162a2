// submissionProgress over graphql-ws: a subscriber sees counts move to INDEXED while the
// pipeline runs; someone else's subscription gets an error, not the counts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, processSubmission, submitter, uid, upload } from './helpers.js';

describe('submissionProgress subscription', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  function subscribe(token: string, id: number) {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    const events: any[] = [];
    const arrived = new EventEmitter();
    const push = (e: any) => { events.push(e); arrived.emit('event'); };
    client.subscribe({ query: `subscription($id: Int!) { submissionProgress(id: $id) { submissionId state total counts { state count } } }`, variables: { id } },
      { next: push, error: (e) => push({ error: e }), complete: () => {} });
    /** Resolves once an event satisfying `check` has arrived (waits on the events, never on a clock). */
    const until = (check: (e: any) => boolean) => new Promise<void>((resolve) => {
      const look = () => { if (events.some(check)) { arrived.off('event', look); resolve(); } };
      arrived.on('event', look);
      look();
    });
    return { client, events, until };
  }

  it('streams counts per state while the submission is processed', async () => {
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    const [study, series] = [uid(), uid()];
    for (let i = 0; i < 5; i++) await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'WS-1', studyUid: study, seriesUid: series, sopUid: uid() }));
    const mine = subscribe(token, sub.id);
    const stranger = subscribe(await app.token('stranger', Role.SUBMITTER), sub.id);
    // The first event of each subscription is the current state (or the refusal): both are live.
    await Promise.all([mine.until((e) => e.data?.submissionProgress?.total === 5), stranger.until(() => true)]);
    assert.deepEqual(mine.events[0].data.submissionProgress.counts.find((c: any) => c.state === 'RECEIVED'), { state: 'RECEIVED', count: 5 });
    await processSubmission(app, token, sub.id);
    await mine.until((e) => e.data?.submissionProgress?.counts?.some((c: any) => c.state === 'INDEXED' && c.count === 5));
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
