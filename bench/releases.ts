/**
 * `npm run bench:releases`: what a release costs. On a seeded archive (BENCH_SCALE, default 0.02:
 * about 39,000 images in 4 collections) it cuts v1 of every collection, measures the process's
 * CPU per 1,000 images against a plain read of the same rows (the floor: the catalogue join the
 * manifest is copied from), then an unchanged re-release (hashed, compared, rolled back) and the
 * DRS bundle of a version. With SQLite the database works in this process, so its CPU is
 * counted; with DATABASE_URL (MariaDB) the server's is not. Temporary data directory.
 */
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrap } from '../src/app.js';
import { Role, type Principal } from '../src/auth/Principal.js';
import { DrsService } from '../src/ga4gh/drs/DrsService.js';
import { ReleaseService } from '../src/releases/ReleaseService.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 0.02);
const curator: Principal = { id: 'bench-curator', name: null, email: null, institution: null, roles: [Role.CURATOR] };

async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-releases-'));
  const app = await bootstrap({
    config: { dataDir, keysDir: `${dataDir}/keys`, stagingDir: `${dataDir}/staging`, backupDir: `${dataDir}/backup`, ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}) },
    seedIfEmpty: { scale: SCALE }, listen: false, log: () => {},
  });
  try {
    const em = app.orm.em.fork() as EntityManager;
    const knex = em.getKnex();
    const collections = await knex('collection').where('release_state', 'RELEASED').orderBy('id').select('id', 'accession');
    const rows: string[] = [];
    let totals = { images: 0, cut: 0, scan: 0, again: 0, drs: 0 };
    for (const c of collections) {
      // The floor: reading the same rows the manifest copies, in pages, without writing or hashing.
      const scan = await measure(async () => {
        let n = 0;
        for (let after = 0; ;) {
          const page = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id').join('individual as i', 'i.id', 's.individual_id')
            .where('s.collection_id', c.id).where('im.id', '>', after).orderBy('im.id').limit(5000)
            .select('im.id', 'im.uid', 's.uid as series', 'st.study_instance_uid', 'st.accession', 'i.accession as individual', 's.modality', 'im.sha256', 'im.size');
          n += page.length;
          if (page.length < 5000) return n;
          after = Number(page[page.length - 1].id);
        }
      });
      const cut = await measure(() => new ReleaseService(app.orm.em.fork() as EntityManager, curator).cutVersion(c.id, curator.id));
      const again = await measure(() => new ReleaseService(app.orm.em.fork() as EntityManager, curator).cutVersion(c.id, curator.id));
      if (again.value.number !== cut.value.number) throw new Error('an unchanged re-release cut a new version');
      const drs = await measure(() => new DrsService(app.orm.em.fork() as EntityManager, null).object(`${c.accession}.v1`));
      const images = cut.value.imageCount;
      totals = { images: totals.images + images, cut: totals.cut + cut.cpuMs, scan: totals.scan + scan.cpuMs, again: totals.again + again.cpuMs, drs: totals.drs + drs.cpuMs };
      rows.push(`${c.accession}  ${String(images).padStart(8)} images  cut v1 ${cut.wallMs.toFixed(0).padStart(6)} ms wall ${cut.cpuMs.toFixed(0).padStart(6)} ms CPU  | scan ${scan.cpuMs.toFixed(0).padStart(5)} ms CPU | unchanged re-release ${again.cpuMs.toFixed(0).padStart(5)} ms CPU | DRS bundle ${drs.cpuMs.toFixed(0).padStart(5)} ms CPU`);
    }
    const per = (ms: number) => (ms / totals.images * 1000).toFixed(1);
    console.log(`database: ${process.env.DATABASE_URL ? 'MariaDB (server CPU not counted)' : 'SQLite (in process)'}; seed scale ${SCALE}`);
    for (const r of rows) console.log(r);
    console.log(`CPU per 1,000 images: cut a version ${per(totals.cut)} ms, plain read of the same rows ${per(totals.scan)} ms (ratio ${(totals.cut / totals.scan).toFixed(2)}×), unchanged re-release ${per(totals.again)} ms, DRS version bundle ${per(totals.drs)} ms`);
  } finally {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
