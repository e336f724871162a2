// A Redis of the test's own on a spare loopback port, so no other test's events are heard and
// nothing is left behind (no RDB or AOF file).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface TestRedis { url: string; port: number; stop(): Promise<void> }

export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A new Redis, on a spare port or on `port` (a Redis that comes back where it was). */
export async function startRedis(port?: number): Promise<TestRedis> {
  port ??= await sparePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('Ready to accept connections')) { child.stdout!.off('data', onData); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
  });
  child.stdout!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
