/**
 * `npm run bench:dicomweb`: DICOMweb's hot paths over real HTTP, as OHIF sends them: the QIDO
 * study list, series of a study, instances of a series, `series?Modality=CT&limit=100`, series
 * metadata of a 300-instance series, and frames per second. QIDO runs on the seeded metadata
 * (OBIA_SEED_SCALE, default 0.02: ~39,000 images; 1 for the paper's 1.94 M on MariaDB with
 * DATABASE_URL), metadata and frames on a 300-instance series ingested through the pipeline.
 * Client and server share this process: CPU per request counts both (an upper bound on the server's).
 * Orthanc side by side is not part of this bench yet (see the issue's report).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrap } from '../src/app.js';
import { Role } from '../src/auth/Principal.js';
import { makeCt, uid } from '../test/ingest/helpers.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const SCALE = Number(process.env.OBIA_SEED_SCALE ?? 0.02);
const OHIF_STUDY_LIST = 'limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-dicomweb-'));
  const app = await bootstrap({
    config: { dataDir, keysDir: `${dataDir}/keys`, stagingDir: `${dataDir}/staging`, backupDir: `${dataDir}/backup`, ...(process.env.DATABASE_URL ? {} : { databaseUrl: null }) },
    listen: false, seedIfEmpty: { scale: SCALE }, log: () => {},
  });
  const gql = async (query: string, variables: Record<string, unknown>, token: string) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  try {
    // A 300-instance CT series through the real pipeline, reviewed and released.
    const submitter = await app.issuer.issue({ sub: 'bench-submitter', roles: [Role.SUBMITTER] });
    const curator = await app.issuer.issue({ sub: 'bench-curator', roles: [Role.CURATOR] });
    const sub = (await gql('mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id uploadUrl } }', { i: { title: 'bench', disease: 'bench' } }, submitter)).createSubmission;
    const studyUid = uid(), seriesUid = uid();
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${app.url}${sub.uploadUrl}?name=${i}.dcm`, { method: 'PUT', body: makeCt({ patientId: 'BENCH', studyUid, seriesUid, sopUid: uid(), instanceNumber: i + 1, size: 256 }), headers: { authorization: `Bearer ${submitter}` } });
      if (res.status !== 201) throw new Error(`upload ${res.status}`);
    }
    // processSubmission starts the run; the in-process pipeline's process() joins it until it ends.
    await gql('mutation($id: ID!) { processSubmission(submission: $id) { state } }', { id: sub.id }, submitter);
    await app.door.ingest!.pipeline.process(Number(sub.id));
    const knex = (app.orm.em as any).getKnex();
    const series: any = await knex('series as s').join('study as st', 'st.id', 's.study_id').join('submission as sb', 'sb.collection_id', 's.collection_id').where('sb.id', sub.id).first('s.uid', 'st.study_instance_uid as study', 's.collection_id as collectionId');
    await gql('mutation($u: String!) { reviewSeries(uid: $u, verdict: PASS, note: "bench") { verdict } }', { u: series.uid }, curator);
    const { accession } = await knex('collection').where('id', series.collectionId).first('accession');
    await gql('mutation($a: String!) { releaseCollection(accession: $a) { released } }', { a: accession }, curator);
    const sops: string[] = (await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.uid', series.uid).select('im.uid')).map((r: any) => r.uid);
    const counts = await knex('image').count('* as n').first();
    console.log(`archive: ${counts.n} images (${app.config.databaseUrl ? 'MySQL/MariaDB' : 'SQLite'}, seed scale ${SCALE}); metadata/frames on a ${sops.length}-instance series`);

    const studies: string[] = (await knex('study').orderBy('id').limit(200).select('study_instance_uid as u')).map((r: any) => r.u);
    const seriesUids: { st: string; se: string }[] = await knex('series as s').join('study as st', 'st.id', 's.study_id').orderBy('s.id').limit(200).select('st.study_instance_uid as st', 's.uid as se');
    const researcher = await app.issuer.issue({ sub: 'bench-researcher', roles: [Role.RESEARCHER] });
    const get = async (p: string, accept = 'application/dicom+json', token?: string) => {
      const res = await fetch(`${app.url}/dicom-web${p}`, { headers: { accept, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${Buffer.from(body).toString().slice(0, 200)}`);
      return body;
    };
    const cases: [string, (i: number) => Promise<unknown>, number][] = [
      ['QIDO study list as OHIF sends it', () => get(`/studies?${OHIF_STUDY_LIST}`), 1],
      ['QIDO series of a study', (i) => get(`/studies/${studies[i % studies.length]}/series`), 1],
      ['QIDO instances of a series', (i) => get(`/studies/${seriesUids[i % seriesUids.length]!.st}/series/${seriesUids[i % seriesUids.length]!.se}/instances`), 1],
      ['QIDO series?Modality=CT&limit=100', () => get('/series?Modality=CT&limit=100'), 1],
      ['WADO series metadata, 300 instances (cache warm)', () => get(`/studies/${series.study}/series/${series.uid}/metadata`), 1],
      ['WADO frames, 10 instances one frame each', async (i) => {
        for (let k = 0; k < 10; k++) await get(`/studies/${series.study}/series/${series.uid}/instances/${sops[(i * 10 + k) % sops.length]}/frames/1`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*', researcher);
      }, 10],
    ];
    for (const [name, run, units] of cases) {
      for (let i = 0; i < 5; i++) await run(i);
      const times: number[] = [];
      const cpu0 = process.cpuUsage();
      const t00 = performance.now();
      for (let i = 0; i < ITERATIONS; i++) {
        const t0 = performance.now();
        await run(i);
        times.push(performance.now() - t0);
      }
      const wall = performance.now() - t00;
      const cpu = process.cpuUsage(cpu0);
      times.sort((a, b) => a - b);
      const cpuPer = (cpu.user + cpu.system) / 1000 / (ITERATIONS * units);
      const rate = units > 1 ? `, ${((ITERATIONS * units) / (wall / 1000)).toFixed(0)} frames/s` : '';
      console.log(`${name}: p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, CPU ${cpuPer.toFixed(2)} ms per ${units > 1 ? 'frame' : 'request'}${rate} (n=${ITERATIONS})`);
    }
  } finally {
    await app.close();
    app.server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
