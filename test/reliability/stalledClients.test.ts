// A client that stops sending in the middle of a request is cut off once its connection has been
// idle for OBIA_HTTP_IDLE_TIMEOUT_MS (Fastify's default is no timeout at all): a stalled upload
// held its socket, its half-written staged file and its submission's run — which waits for the
// uploads in flight — for ever. WebSocket subscriptions, idle by nature, are not under it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';

// Long enough that no request of the test idles this long under a loaded CI machine (a slow answer is idle time too).
const IDLE_MS = 3_000;

/** A raw connection to the app that sends `head` (and `body`, if any) and then nothing; resolves with what came back once the server closes it. */
async function stall(app: TestApp, head: string, body?: Buffer): Promise<{ received: string }> {
  const socket = net.connect(Number(new URL(app.url).port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => { received += d.toString('latin1'); });
  socket.write(head);
  if (body) socket.write(body);
  await once(socket, 'close');
  return { received };
}

describe('stalled clients', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp({ config: { limits: { ...loadConfig().limits, idleTimeoutMs: IDLE_MS } } });
    token = await submitter(app, 'stalling-submitter');
  });
  after(async () => { await app?.stop(); });

  it('closes an upload that stops sending, keeps nothing of it, and lets its submission\'s run end', { timeout: 60_000 }, async () => {
    const sub = await createSubmission(app, token);
    const good = makeCt({ patientId: 'STALL-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 64 });
    assert.equal((await upload(app, token, sub.uploadUrl, good, 'good.dcm')).status, 201);
    // A WebSocket opened alongside stays open, idle, through the stall.
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    const [ack] = await once(ws, 'message');
    assert.equal(JSON.parse(String(ack)).type, 'connection_ack');

    const big = makeCt({ patientId: 'STALL-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 256 });
    const run = app.door.ingest!.pipeline.process(Number(sub.id));
    const { received } = await stall(app,
      `PUT ${sub.uploadUrl}?name=stalled.dcm HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${big.length}\r\n\r\n`, big.subarray(0, 4096));
    assert.doesNotMatch(received, /^HTTP\/1\.1 201/, 'the half upload was not accepted');

    const summary = await run;
    assert.equal(summary.ingested, 1);
    assert.equal(summary.pending, 0);
    const staged = fs.readdirSync(path.join(app.config.stagingDir, 'submissions', sub.id)).filter((f) => !f.endsWith('.name'));
    assert.equal(staged.length, 1, `only the complete upload is staged: ${staged.join(', ')}`);
    const processed = await fetchSubmission(app, token, sub.id);
    assert.equal(processed.files.length, 1);
    assert.equal(processed.state, 'PROCESSED');

    assert.equal(ws.readyState, WebSocket.OPEN, 'the idle WebSocket is still open');
    ws.close();
    await once(ws, 'close');
  });

  it('closes a connection that sends half its request head', { timeout: 60_000 }, async () => {
    const { received } = await stall(app, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    assert.equal(received, '');
  });
});

describe('a client that stops reading its responses', () => {
  it('does not hold the hub\'s shutdown past its grace', { timeout: 60_000 }, async () => {
    // The idle timeout far off, so only the shutdown's grace can end the stalled connection.
    const app = await startTestApp({ config: { limits: { ...loadConfig().limits, idleTimeoutMs: 600_000, shutdownGraceMs: 200 } } });
    let socket: net.Socket | null = null;
    try {
      socket = net.connect(Number(new URL(app.url).port), '127.0.0.1');
      await once(socket, 'connect');
      // Pipelined introspection queries (≈ 100 KB of answer each), never read: the answers fill the
      // socket's buffers and the hub's response stays unfinished.
      const body = JSON.stringify({ query: '{ __schema { types { name description fields { name description args { name description } } } } }' });
      const request = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      // The hub has begun answering before it is told to stop: the first bytes are read, then no more.
      const answering = new Promise<void>((resolve) => socket!.once('data', () => { socket!.pause(); resolve(); }));
      socket.write(request.repeat(400));
      await answering;
    } finally {
      await app.stop();
    }
    // The stalled connection was cut, not left to the idle timeout: reading what it holds reaches its end.
    socket!.on('data', () => {}).resume();
    await once(socket!, 'close');
  });
});
