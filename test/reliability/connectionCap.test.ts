// Every connection the hub holds is a file descriptor, shared with its stored files, staging, the
// database and its workers. Nothing bounded them: one client opening thousands of idle sockets
// (keep-alive HTTP, or graphql-ws sockets that never send connection_init) took every descriptor
// the process has, and every other user's next file open failed (EMFILE). Now each remote
// address holds at most OBIA_MAX_CONNECTIONS_PER_ADDRESS (trusted proxies excepted), and the
// server at most OBIA_MAX_CONNECTIONS in all.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openFileLimit } from '../../src/http/connectionCap.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('connections counted by the HTTP server before any request is read; the database is not involved');

const PER_ADDRESS = 4;

/** A raw connection that asks for /health: 'answered' with the status line, or 'closed' unanswered. */
function ask(app: TestApp): { socket: net.Socket; outcome: Promise<'answered' | 'closed'> } {
  const { port } = new URL(app.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const outcome = new Promise<'answered' | 'closed'>((resolve) => {
    socket.once('data', (d) => resolve(String(d).startsWith('HTTP/1.1 200') ? 'answered' : 'closed'));
    socket.once('close', () => resolve('closed'));
    socket.once('error', () => resolve('closed'));
  });
  socket.write('GET /health HTTP/1.1\r\nHost: hub\r\nConnection: keep-alive\r\n\r\n');
  return { socket, outcome };
}

describe('connections per address', () => {
  const limits = { ...loadConfig().limits, connectionsPerAddress: PER_ADDRESS };
  let app: TestApp;
  let proxied: TestApp;
  before(async () => {
    app = await startTestApp({ config: { limits } });
    proxied = await startTestApp({ config: { limits, trustProxy: ['loopback'] } });
  });
  after(async () => { await app?.stop(); await proxied?.stop(); });

  it('are bounded: one more is closed unanswered, and a closed one gives its place back', async () => {
    const held = Array.from({ length: PER_ADDRESS }, () => ask(app));
    assert.deepEqual(await Promise.all(held.map((c) => c.outcome)), Array(PER_ADDRESS).fill('answered'), 'kept-alive connections up to the bound are served');
    const over = ask(app);
    assert.equal(await over.outcome, 'closed', 'one more from the same address is closed');
    const gone = new Promise((resolve) => held[0]!.socket.once('close', resolve));
    held[0]!.socket.destroy();
    await gone;
    // The server learns of the close on its side in a later turn: the place is back once it has.
    let again = ask(app);
    while (await again.outcome === 'closed') again = ask(app);
    assert.equal(await again.outcome, 'answered');
    for (const c of [...held, over, again]) c.socket.destroy();
  });

  it('are not bounded per address for a trusted proxy, whose peers are many clients', async () => {
    const held = Array.from({ length: PER_ADDRESS + 2 }, () => ask(proxied));
    assert.deepEqual(await Promise.all(held.map((c) => c.outcome)), Array(PER_ADDRESS + 2).fill('answered'));
    for (const c of held) c.socket.destroy();
  });

  it('are bounded in all by half the process\'s file limit unless configured', () => {
    assert.equal(app.server.maxConnections, Math.max(64, Math.floor(openFileLimit() / 2)));
    assert.ok(openFileLimit() >= 64);
  });
});
