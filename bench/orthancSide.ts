/**
 * Debian's Orthanc as a reference DICOM server, always inside a private network namespace
 * (`unshare -n`): Orthanc listens on every interface, so it gets a loopback of its own. Two uses:
 *
 * - `node orthancSide.js <corpus>` (run by `npm run bench:ingest` under `unshare -n`): starts
 *   Orthanc on a scratch storage directory, POSTs every file of the corpus directory to
 *   /instances from 4 clients, and prints one JSON line: the rate, Orthanc's CPU per instance
 *   (all its threads), and how many it stored. Orthanc stores one copy and de-identifies
 *   nothing: the reference for a plain DICOM store.
 * - `startOrthanc()` (the DICOMweb conformance test and `npm run bench:dicomweb`): runs this
 *   file with `--serve <socket>` under `unshare -n`, which starts Orthanc with the DICOMweb
 *   plugin and relays a Unix socket (a file, so it crosses the namespace) to Orthanc's port; the
 *   caller then speaks HTTP to Orthanc through that socket.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const ORTHANC = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const PORT = 8042;
const CLIENTS = 4;

/** utime + stime of a process, all threads, in ms (Linux /proc, USER_HZ = 100; /proc is shared across network namespaces). */
export function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function waitReady(deadline: number): Promise<void> {
  // Orthanc has no readiness signal on stdout worth parsing; its REST API answering is the signal.
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}/system`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('Orthanc did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Orthanc in this (private) namespace on a scratch directory; `stop` ends it and removes the directory. */
async function runOrthanc(dicomweb: boolean): Promise<{ orthanc: ChildProcess; log: () => string; stop: () => Promise<void> }> {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-orthanc-'));
  const config = path.join(dir, 'orthanc.json');
  fs.writeFileSync(config, JSON.stringify({
    Name: 'reference', StorageDirectory: path.join(dir, 'storage'), IndexDirectory: path.join(dir, 'storage'),
    HttpPort: PORT, DicomServerEnabled: false, RemoteAccessAllowed: false, AuthenticationEnabled: false,
    StorageCompression: false, HttpThreadsCount: 50,
    Plugins: dicomweb ? [DICOMWEB_PLUGIN] : [],
    // "Full": QIDO reads attributes the index does not hold from the stored files, as it must to answer them.
    ...(dicomweb ? { DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' } } : {}),
  }));
  const orthanc = spawn(ORTHANC, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  orthanc.stderr!.on('data', (d) => { log = (log + d).slice(-4000); });
  const exited = new Promise((r) => orthanc.once('exit', r));
  const stop = async () => {
    if (orthanc.exitCode === null && orthanc.signalCode === null) orthanc.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(Date.now() + 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return { orthanc, log: () => log, stop };
}

/** The ingest bench's side: the corpus POSTed to Orthanc, figures on stdout. */
async function ingestCorpus(corpus: string) {
  const { orthanc, log, stop } = await runOrthanc(false);
  try {
    const files = fs.readdirSync(corpus).filter((f) => f.endsWith('.dcm')).sort().map((f) => fs.readFileSync(path.join(corpus, f)));
    const cpu0 = cpuMs(orthanc.pid!);
    const t0 = performance.now();
    let next = 0;
    let stored = 0;
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < files.length) {
        const body = files[next++]!;
        const res = await fetch(`http://127.0.0.1:${PORT}/instances`, { method: 'POST', body, headers: { 'content-type': 'application/dicom' } });
        if (!res.ok) throw new Error(`Orthanc answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        await res.arrayBuffer();
        stored++;
      }
    }));
    const ms = performance.now() - t0;
    const cpu = cpuMs(orthanc.pid!) - cpu0;
    console.log(JSON.stringify({ orthancInstancesPerSecond: +(files.length / (ms / 1000)).toFixed(1), orthancCpuMsPerInstance: +(cpu / files.length).toFixed(1), stored }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${log()}`);
    process.exitCode = 1;
  } finally {
    await stop();
  }
}

/** The served side: Orthanc with DICOMweb, reached through a Unix socket relayed to its port, until stdin closes (the parent ended). */
async function serve(socket: string) {
  const { orthanc, stop } = await runOrthanc(true);
  const relay = net.createServer((client) => {
    const upstream = net.connect(PORT, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => relay.listen(socket, resolve));
  console.log(JSON.stringify({ ready: true, pid: orthanc.pid }));
  const done = async () => {
    relay.close();
    await stop();
    process.exit(0);
  };
  process.stdin.on('end', () => void done());
  process.stdin.on('close', () => void done());
  process.stdin.resume();
  process.on('SIGTERM', () => void done());
}

/** An HTTP answer read whole. */
export interface OrthancAnswer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** Orthanc (with DICOMweb under /dicom-web) in a network namespace of its own, spoken to through a Unix socket. */
export interface OrthancHandle {
  /** Orthanc's process id (for its CPU time through /proc). */
  pid: number;
  /** The Unix socket relayed to Orthanc's HTTP port, for clients of one's own (node:http `socketPath`). */
  socketPath: string;
  /** `path` is sent as is: Orthanc does not percent-decode QIDO values, so callers choose the bytes. */
  request(method: string, path: string, options?: { body?: Uint8Array; headers?: Record<string, string> }): Promise<OrthancAnswer>;
  /** Stores DICOM files (POST /instances, `clients` at a time). */
  load(files: Iterable<Uint8Array> | Uint8Array[], clients?: number): Promise<number>;
  stop(): Promise<void>;
}

/** Why Orthanc cannot be run here, or null when it can. */
export function orthancMissing(): string | null {
  if (!fs.existsSync(ORTHANC)) return 'Debian orthanc is not installed: apt-get install -y orthanc orthanc-dicomweb';
  if (!fs.existsSync(DICOMWEB_PLUGIN)) return 'Debian orthanc-dicomweb is not installed: apt-get install -y orthanc-dicomweb';
  return null;
}

/** Starts Orthanc with its DICOMweb plugin under `unshare -n` (needs root, as CI runs). */
export async function startOrthanc(): Promise<OrthancHandle> {
  const missing = orthancMissing();
  if (missing) throw new Error(missing);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-orthanc-sock-'));
  const socketPath = path.join(dir, 'orthanc.sock');
  const side = spawn('unshare', ['-n', '--', process.execPath, __filename, '--serve', socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  side.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  const exited = new Promise((r) => side.once('exit', r));
  const ready = await new Promise<{ pid: number } | null>((resolve) => {
    const lines = readline.createInterface({ input: side.stdout! });
    lines.once('line', (line) => { try { resolve(JSON.parse(line)); } catch { resolve(null); } });
    side.once('exit', () => resolve(null));
  });
  if (!ready) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`unshare -n / Orthanc failed: ${err.trim().slice(-600)}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const request: OrthancHandle['request'] = (method, p, options = {}) => new Promise((resolve, reject) => {
    const req = http.request({ socketPath, agent, method, path: p, headers: { host: '127.0.0.1', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
  return {
    pid: ready.pid,
    socketPath,
    request,
    async load(files, clients = CLIENTS) {
      const list = [...files];
      let next = 0;
      await Promise.all(Array.from({ length: clients }, async () => {
        while (next < list.length) {
          const res = await request('POST', '/instances', { body: list[next++]!, headers: { 'content-type': 'application/dicom' } });
          if (res.status !== 200) throw new Error(`Orthanc answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
        }
      }));
      return list.length;
    },
    async stop() {
      agent.destroy();
      side.stdin!.end();
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  if (process.argv[2] === '--serve') void serve(process.argv[3]!).catch((e) => { console.error((e as Error).message); process.exit(1); });
  else void ingestCorpus(process.argv[2]!);
}
