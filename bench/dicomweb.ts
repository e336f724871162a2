/**
 * `npm run bench:dicomweb`: DICOMweb's hot paths over real HTTP, as OHIF sends them: the QIDO
 * study list, series of a study, instances of a series, `series?Modality=CT&limit=100`, series
 * metadata of a 300-instance series, and frames per second.
 *
 * Default (shared corpus): BENCH_INSTANCES (default 6,000) CT instances in 25-instance series
 * plus one 300-instance series, all through the ingest pipeline (de-identified, reviewed,
 * released) on SQLite; then Orthanc + orthanc-dicomweb (bench/orthancSide.ts, its own network
 * namespace) is loaded with the very files the archive stored, and every case runs against both
 * with the same HTTP client (node:http, keep-alive; Orthanc through the side's Unix-socket relay).
 * Printed per case: p50/p95 for each side, CPU per request (ours: this whole process, client
 * included, so an upper bound; Orthanc: its own threads), and the ratios. Last line: JSON.
 *
 * BENCH_SCALE=full: the paper's archive (1.94 M images) seeded with seeds/seed.ts on
 * DATABASE_URL (MariaDB; a seeded database is reused), plus the 300-instance series; Orthanc is
 * not asked. Targets: QIDO p95 <= 30 ms, series metadata p95 <= 100 ms.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, orthancMissing, startOrthanc, type OrthancHandle } from './orthancSide.js';
import { bootstrap } from '../src/app.js';
import { readVerifiedBlob } from '../src/access/blobs.js';
import { Role } from '../src/auth/Principal.js';
import { makeCt, uid } from '../test/ingest/helpers.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const FULL = process.env.BENCH_SCALE === 'full';
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 6000);
const PER_SERIES = 25;
/** OHIF v3's study list query, as it sends it (percent-encoded commas). */
const OHIF_STUDY_LIST = 'limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A GET through node:http (one client for both servers), the body read whole; non-200 throws. */
function getter(target: { host: string; port: number } | { socketPath: string }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const get = (p: string, accept: string, token?: string) => new Promise<Buffer>((resolve, reject) => {
    const req = http.request({ ...target, agent, path: `/dicom-web${p}`, headers: { host: '127.0.0.1', accept, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode !== 200) reject(new Error(`${p}: ${res.statusCode} ${body.toString().slice(0, 200)}`));
        else resolve(body);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return { get, close: () => agent.destroy() };
}

interface Figures { p50: number; p95: number; cpuMs: number; perSecond: number }

async function measure(run: (i: number) => Promise<unknown>, units: number, cpu: () => number): Promise<Figures> {
  for (let i = 0; i < 5; i++) await run(i);
  const times: number[] = [];
  const c0 = cpu();
  const t00 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  const wall = performance.now() - t00;
  const used = cpu() - c0;
  times.sort((a, b) => a - b);
  return { p50: +percentile(times, 50).toFixed(2), p95: +percentile(times, 95).toFixed(2), cpuMs: +(used / (ITERATIONS * units)).toFixed(2), perSecond: +((ITERATIONS * units) / (wall / 1000)).toFixed(1) };
}

const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-dicomweb-'));
  if (FULL && !process.env.DATABASE_URL) throw new Error('BENCH_SCALE=full runs on MariaDB: set DATABASE_URL (e.g. mysql://root@127.0.0.1:3306/obia_bench)');
  const app = await bootstrap({
    config: { dataDir, keysDir: `${dataDir}/keys`, stagingDir: `${dataDir}/staging`, backupDir: `${dataDir}/backup`, ...(process.env.DATABASE_URL ? {} : { databaseUrl: null }) },
    listen: false, seedIfEmpty: FULL ? { scale: 1 } : false, log: () => {},
  });
  const gql = async (query: string, variables: Record<string, unknown>, token: string) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  let orthanc: OrthancHandle | null = null;
  const ours = getter({ host: '127.0.0.1', port: Number(new URL(app.url).port) });
  try {
    // The corpus through the real pipeline: 25-instance CT series (4 per study, 3 studies per
    // patient) and one 300-instance series, reviewed and released.
    const submitter = await app.issuer.issue({ sub: 'bench-submitter', roles: [Role.SUBMITTER] });
    const curator = await app.issuer.issue({ sub: 'bench-curator', roles: [Role.CURATOR] });
    const sub = (await gql('mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id uploadUrl } }', { i: { title: 'bench', disease: 'bench' } }, submitter)).createSubmission;
    const put = async (name: string, body: Buffer) => {
      const res = await fetch(`${app.url}${sub.uploadUrl}?name=${name}`, { method: 'PUT', body, headers: { authorization: `Bearer ${submitter}` } });
      if (res.status !== 201) throw new Error(`upload ${res.status}`);
    };
    const bigStudy = uid(), bigSeries = uid();
    for (let i = 0; i < 300; i++) await put(`big-${i}.dcm`, makeCt({ patientId: 'BENCH-BIG', studyUid: bigStudy, seriesUid: bigSeries, sopUid: uid(), instanceNumber: i + 1, size: 256 }));
    const shared = FULL ? 0 : INSTANCES;
    for (let n = 0, study = '', series = ''; n < shared; n++) {
      const inSeries = n % PER_SERIES, seriesNo = Math.floor(n / PER_SERIES);
      if (inSeries === 0) { series = uid(); if (seriesNo % 4 === 0) study = uid(); }
      await put(`c-${n}.dcm`, makeCt({ patientId: `BENCH-${Math.floor(seriesNo / 12)}`, studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: inSeries + 1, size: 64 }));
    }
    const t0 = performance.now();
    await gql('mutation($id: ID!) { processSubmission(submission: $id) { state } }', { id: sub.id }, submitter);
    await app.door.ingest!.pipeline.process(Number(sub.id));
    const knex = (app.orm.em as any).getKnex();
    const { collection_id: collectionId } = await knex('submission').where('id', sub.id).first('collection_id');
    for (const s of await knex('series').where('collection_id', collectionId).select('uid')) {
      await gql('mutation($u: String!) { reviewSeries(uid: $u, verdict: PASS, note: "bench") { verdict } }', { u: s.uid }, curator);
    }
    const { accession } = await knex('collection').where('id', collectionId).first('accession');
    await gql('mutation($a: String!) { releaseCollection(accession: $a) { released } }', { a: accession }, curator);
    const big: any = await knex('series as s').join('study as st', 'st.id', 's.study_id').join('image as im', 'im.series_id', 's.id')
      .where('s.collection_id', collectionId).groupBy('s.id', 's.uid', 'st.study_instance_uid').havingRaw('count(*) = 300').first('s.uid', 'st.study_instance_uid as study');
    const sops: string[] = (await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.uid', big.uid).select('im.uid')).map((r: any) => r.uid);
    const counts = await knex('image').count('* as n').first();
    console.log(`archive: ${counts.n} images (${app.config.databaseUrl ? 'MySQL/MariaDB' : 'SQLite'}${FULL ? ', full scale' : ''}); corpus ingested in ${((performance.now() - t0) / 1000).toFixed(0)} s; metadata/frames on a ${sops.length}-instance series`);

    if (!FULL) {
      const missing = orthancMissing();
      if (missing) throw new Error(missing);
      orthanc = await startOrthanc();
      const rows: { sha256: string }[] = await knex('image').select('sha256');
      const l0 = performance.now();
      for (let i = 0; i < rows.length; i += 500) {
        await orthanc.load(await Promise.all(rows.slice(i, i + 500).map(async (r) => (await readVerifiedBlob(app.door.access.blobs, r.sha256))!)));
      }
      const version = JSON.parse((await orthanc.request('GET', '/system')).body.toString()).Version;
      console.log(`Orthanc ${version} + orthanc-dicomweb loaded with the same ${rows.length} stored files in ${((performance.now() - l0) / 1000).toFixed(0)} s`);
    }
    const theirs = orthanc ? getter({ socketPath: orthanc.socketPath }) : null;

    const studies: string[] = (await knex('study').orderBy('id').limit(200).select('study_instance_uid as u')).map((r: any) => r.u);
    const seriesUids: { st: string; se: string }[] = await knex('series as s').join('study as st', 'st.id', 's.study_id').orderBy('s.id').limit(200).select('st.study_instance_uid as st', 's.uid as se');
    const researcher = await app.issuer.issue({ sub: 'bench-researcher', roles: [Role.RESEARCHER] });
    const JSON_TYPE = 'application/dicom+json';
    const FRAME = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
    // Orthanc does not percent-decode QIDO values, so it is sent the same query with literal commas.
    const cases: { name: string; key: string; units: number; run: (get: ReturnType<typeof getter>['get'], i: number, orthancSide: boolean) => Promise<unknown> }[] = [
      { name: 'QIDO study list as OHIF sends it', key: 'studyList', units: 1, run: (get, _i, o) => get(`/studies?${o ? OHIF_STUDY_LIST.replace('%2C', ',') : OHIF_STUDY_LIST}`, JSON_TYPE) },
      { name: 'QIDO series of a study', key: 'seriesOfStudy', units: 1, run: (get, i) => get(`/studies/${studies[i % studies.length]}/series`, JSON_TYPE) },
      { name: 'QIDO instances of a series', key: 'instancesOfSeries', units: 1, run: (get, i) => get(`/studies/${seriesUids[i % seriesUids.length]!.st}/series/${seriesUids[i % seriesUids.length]!.se}/instances`, JSON_TYPE) },
      { name: 'QIDO series?Modality=CT&limit=100', key: 'seriesCt100', units: 1, run: (get) => get('/series?Modality=CT&limit=100', JSON_TYPE) },
      { name: 'WADO series metadata, 300 instances', key: 'seriesMetadata', units: 1, run: (get) => get(`/studies/${big.study}/series/${big.uid}/metadata`, JSON_TYPE) },
      { name: 'WADO frames, 10 instances one frame each', key: 'frames', units: 10, run: async (get, i) => {
        for (let k = 0; k < 10; k++) await get(`/studies/${big.study}/series/${big.uid}/instances/${sops[(i * 10 + k) % sops.length]}/frames/1`, FRAME, researcher);
      } },
    ];
    const result: Record<string, unknown> = { images: Number(counts.n), database: app.config.databaseUrl ? 'mariadb' : 'sqlite', scale: FULL ? 'full' : 'shared' };
    for (const c of cases) {
      const us = await measure((i) => c.run(ours.get, i, false), c.units, selfCpu);
      const them = theirs ? await measure((i) => c.run(theirs.get, i, true), c.units, () => cpuMs(orthanc!.pid)) : null;
      const per = c.units > 1 ? 'frame' : 'request';
      const rate = c.units > 1 ? `, ${us.perSecond} frames/s` : '';
      let line = `${c.name}: ours p50 ${us.p50} ms, p95 ${us.p95} ms, CPU ${us.cpuMs} ms per ${per}${rate}`;
      if (them) {
        line += ` | Orthanc p50 ${them.p50} ms, p95 ${them.p95} ms, CPU ${them.cpuMs} ms per ${per}${c.units > 1 ? `, ${them.perSecond} frames/s` : ''}`;
        line += ` | Orthanc/ours p50 ×${(them.p50 / us.p50).toFixed(1)}, p95 ×${(them.p95 / us.p95).toFixed(1)}`;
      }
      console.log(`${line} (n=${ITERATIONS})`);
      result[c.key] = { ours: us, orthanc: them, orthancOverOursP50: them ? +(them.p50 / us.p50).toFixed(2) : null };
    }
    if (FULL) {
      const qidoP95 = Math.max(...['studyList', 'seriesOfStudy', 'instancesOfSeries', 'seriesCt100'].map((k) => (result[k] as { ours: Figures }).ours.p95));
      result.targets = { qidoP95, qidoP95Met: qidoP95 <= 30, seriesMetadataP95: (result.seriesMetadata as { ours: Figures }).ours.p95, seriesMetadataP95Met: (result.seriesMetadata as { ours: Figures }).ours.p95 <= 100 };
    }
    theirs?.close();
    console.log(JSON.stringify(result));
  } finally {
    ours.close();
    await orthanc?.stop();
    await app.close();
    app.server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
