/**
 * `npm run bench:startup`: start-up to serving on a fresh data directory, seeding the default
 * archive with real images (what a first `npm start` does). Prints wall time, the process's CPU
 * time, and CPU per seeded image. The budget is 90 s on the 2-core reference machine.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrap } from '../src/app.js';

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-startup-'));
  const logs: string[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const app = await bootstrap({
    config: { dataDir, keysDir: path.join(dataDir, 'keys'), stagingDir: path.join(dataDir, 'staging'), backupDir: path.join(dataDir, 'backup'), databaseUrl: null },
    seedIfEmpty: { images: true }, listen: false, log: (m) => { logs.push(m); if (process.env.BENCH_VERBOSE) console.log(m); },
  });
  const health = await fetch(`${app.url}/health`);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const images = Number((await app.orm.em.fork().getConnection().execute('select count(*) as n from image'))[0].n);
  console.log(logs.filter((l) => l.startsWith('seeded') || l.startsWith('seed:')).join('\n'));
  console.log(`start-up to serving (fresh data dir, health ${health.status}): ${wall.toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU in the main process (user ${(cpu.user / 1e6).toFixed(1)}, system ${(cpu.system / 1e6).toFixed(1)}; worker threads included), ${images} images: ${(wall * 1000 / images).toFixed(1)} ms wall and ${(cpuS * 1000 / images).toFixed(1)} ms CPU per image, ${(images / wall).toFixed(0)} images/s; budget 90 s (${(wall / 90 * 100).toFixed(0)}% used) on ${os.cpus().length} cores`);
  await app.close();
  await new Promise((r) => app.server.close(r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); process.exit(1); });
