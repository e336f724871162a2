/**
 * The Orthanc half of `npm run bench:ingest`, run by it inside a private network namespace
 * (`unshare -n`: Debian's Orthanc listens on every interface, so it gets a loopback of its own).
 * Starts /usr/sbin/Orthanc on a scratch storage directory, POSTs every file of the corpus
 * directory to /instances from 4 clients, and prints one JSON line: the rate, Orthanc's CPU per
 * instance (all its threads), and how many it stored. Orthanc stores one copy and de-identifies
 * nothing: the reference for a plain DICOM store.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const corpus = process.argv[2]!;
const PORT = 8042;
const CLIENTS = 4;

/** utime + stime of a process, all threads, in ms (Linux /proc, USER_HZ = 100). */
function cpuMs(pid: number): number {
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

async function main() {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-orthanc-'));
  const config = path.join(dir, 'orthanc.json');
  fs.writeFileSync(config, JSON.stringify({
    Name: 'bench', StorageDirectory: path.join(dir, 'storage'), IndexDirectory: path.join(dir, 'storage'),
    HttpPort: PORT, DicomServerEnabled: false, RemoteAccessAllowed: false, AuthenticationEnabled: false,
    StorageCompression: false, Plugins: [], HttpThreadsCount: 50,
  }));
  const orthanc = spawn('/usr/sbin/Orthanc', [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  orthanc.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  try {
    await waitReady(Date.now() + 60_000);
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
    console.error(`${(e as Error).message}\n${log}`);
    process.exitCode = 1;
  } finally {
    orthanc.kill('SIGTERM');
    await new Promise((r) => orthanc.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
