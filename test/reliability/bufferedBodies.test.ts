// Request bodies the server reads into memory (GraphQL over HTTP, STOW-RS, query images) are held
// within one budget for all requests together, must keep arriving, and are read only from callers
// the route would answer. Before, each route bounded one body (STOW-RS: 512 MB) but not how many
// at once nor how slowly they came, and STOW-RS read its whole body before asking who sent it: a
// few anonymous clients could make the hub hold gigabytes, or hold a connection and its bytes for
// ever by trickling a byte at a time past the idle timeout.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { BodyBudget } from '../../src/http/bodyBudget.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';

const MiB = 1024 * 1024;

/** A raw HTTP/1.1 connection: what it has received so far, and the first response's head once it comes. */
class RawClient {
  readonly socket: net.Socket;
  received = '';
  private readonly waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => { this.received += d.toString('latin1'); for (const w of this.waiters.splice(0)) w(); });
    socket.on('close', () => { for (const w of this.waiters.splice(0)) w(); });
  }

  static async open(app: TestApp): Promise<RawClient> {
    const socket = net.connect(Number(new URL(app.url).port), '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Resolves with the status line's code once a whole response head has arrived (or the connection closed). */
  async status(): Promise<number | null> {
    while (!this.received.includes('\r\n\r\n') && !this.socket.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : null;
  }

  header(name: string): string | undefined {
    const head = this.received.split('\r\n\r\n')[0] ?? '';
    return new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1];
  }

  async write(bytes: Buffer | string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  close(): void { this.socket.destroy(); }
}

/** Resolves once the bytes the hub holds satisfy `test` (now, or at a later change). */
function budgetReaches(budget: BodyBudget, test: (held: number) => boolean): Promise<number> {
  if (test(budget.held)) return Promise.resolve(budget.held);
  return new Promise((resolve) => {
    const onChange = (held: number) => { if (test(held)) { budget.off('change', onChange); resolve(held); } };
    budget.on('change', onChange);
  });
}

describe('STOW-RS knows its caller before it reads the body', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  const stowHead = (path: string, length: number, token?: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}` +
    `Content-Type: multipart/related; type="application/dicom"; boundary=b\r\nContent-Length: ${length}\r\n\r\n`;

  it('answers an anonymous 512 MB STOW-RS 401 on its headers alone', { timeout: 30_000 }, async () => {
    const owner = await submitter(app, 'stow-owner');
    const sub = await createSubmission(app, owner);
    const client = await RawClient.open(app);
    try {
      await client.write(stowHead(`/dicom-web/submissions/${sub.id}/studies`, 512 * MiB));
      assert.equal(await client.status(), 401);
      assert.equal(app.http.bodyBudget.held, 0, 'none of the body is held');
    } finally { client.close(); }
  });

  it('answers a signed-in stranger 403 on the headers, and the owner is still served', { timeout: 30_000 }, async () => {
    const owner = await submitter(app, 'stow-owner-2');
    const stranger = await submitter(app, 'stow-stranger');
    const sub = await createSubmission(app, owner);
    const client = await RawClient.open(app);
    try {
      await client.write(stowHead(`/dicom-web/submissions/${sub.id}/studies`, 512 * MiB, stranger));
      assert.equal(await client.status(), 403);
    } finally { client.close(); }

    const file = makeCt({ patientId: 'STOW-OWNER', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 32 });
    const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), file, Buffer.from('\r\n--b--\r\n')]);
    const res = await fetch(`${app.url}/dicom-web/submissions/${sub.id}/studies`, {
      method: 'POST', body, headers: { authorization: `Bearer ${owner}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
    });
    assert.equal(res.status, 200, await res.text());
  });
});

describe('request bodies held in memory', () => {
  let app: TestApp;
  before(async () => {
    // A small budget; no rate rule within the test's time (the next describe tries that).
    app = await startTestApp({ config: { limits: { ...loadConfig().limits, bufferedBodyBytes: 3 * MiB, bodyGraceMs: 600_000 } } });
  });
  after(async () => { await app?.stop(); });

  const queryImageHead = (length: number) =>
    `POST /query-images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;

  it('are bounded for all requests together: past the budget 503 with Retry-After, and the budget frees when a response ends', { timeout: 60_000 }, async () => {
    const budget = app.http.bodyBudget;
    // One client sends all but the last byte of a 2 MiB body, and waits.
    const holder = await RawClient.open(app);
    const declared = queryImageHead(2 * MiB);
    await holder.write(declared);
    await holder.write(Buffer.alloc(2 * MiB - 1, 7));
    await budgetReaches(budget, (held) => held === 2 * MiB - 1);
    // Operators see it.
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^obia_http_buffered_body_bytes ${2 * MiB - 1}$`, 'm'));

    // Another declares 2 MiB: it cannot fit, and is told so before it sends a byte of it.
    const declaredTooMuch = await RawClient.open(app);
    await declaredTooMuch.write(queryImageHead(2 * MiB));
    assert.equal(await declaredTooMuch.status(), 503);
    assert.equal(declaredTooMuch.header('retry-after'), '5');
    assert.match(declaredTooMuch.received, /"code":"SERVICE_UNAVAILABLE"/);
    declaredTooMuch.close();

    // A chunked body, whose size nobody declared, is refused once its bytes would pass the budget.
    const chunked = await RawClient.open(app);
    await chunked.write('POST /query-images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = Buffer.alloc(256 * 1024, 9);
    for (let i = 0; i < 8 && !chunked.received; i++) await chunked.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])).catch(() => {});
    assert.equal(await chunked.status(), 503);
    chunked.close();
    assert.equal(budget.held, 2 * MiB - 1, 'the refused bodies hold nothing');

    // The first body ends (not an image: 400) and its bytes are let go with its response.
    await holder.write(Buffer.from([7]));
    assert.equal(await holder.status(), 400);
    holder.close();
    await budgetReaches(budget, (held) => held === 0);

    // Now the same 2 MiB is read and answered.
    const res = await fetch(`${app.url}/query-images`, { method: 'POST', body: Buffer.alloc(2 * MiB, 7), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'BAD_USER_INPUT');

    // A body larger than the server ever holds at once is 413, not "retry later".
    const tooBig = await RawClient.open(app);
    await tooBig.write(queryImageHead(4 * MiB));
    assert.equal(await tooBig.status(), 413);
    tooBig.close();
  });

  it('do not count uploads, which stream to disk', { timeout: 60_000 }, async () => {
    const token = await submitter(app, 'budget-uploader');
    const sub = await createSubmission(app, token);
    const file = makeCt({ patientId: 'BIG-UPLOAD', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 1400 });
    assert.ok(file.length > 3 * MiB);
    const res = await upload(app, token, sub.uploadUrl, file, 'big.dcm');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(app.http.bodyBudget.held, 0);
  });
});

describe('a request body that trickles in', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ config: { limits: { ...loadConfig().limits, minBodyBytesPerSecond: 64 * 1024, bodyGraceMs: 500 } } });
  });
  after(async () => { await app?.stop(); });

  it('is refused 408 once it falls behind the minimum rate, though it is never idle long enough to be cut', { timeout: 30_000 }, async () => {
    const client = await RawClient.open(app);
    const body = JSON.stringify({ query: '{ __typename }' }).padEnd(100_000, ' ');
    await client.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    // A byte at a time as fast as the hub answers nothing: far below 64 KiB a second.
    let sent = 0;
    const trickle = setInterval(() => { if (sent < body.length && !client.socket.closed) void client.write(body[sent++]!).catch(() => {}); }, 50);
    try {
      assert.equal(await client.status(), 408);
      assert.match(client.received, /REQUEST_TIMEOUT/);
    } finally {
      clearInterval(trickle);
      client.close();
    }
    await budgetReaches(app.http.bodyBudget, (held) => held === 0);

    // A body sent at once is answered as ever.
    const res = await app.gql('{ __typename }');
    assert.equal(res.status, 200);
  });
});
