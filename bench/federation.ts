/**
 * `npm run bench:federation`: what the gateway costs. Starts the hub (embedded SQLite, seed
 * scale 0.02, temp data dir), both reference subgraphs and the gateway in this process on
 * ephemeral ports, then times queries (a) and (b) of issue 6 sequentially, RUNS times each
 * (default 200, after 20 warm-up runs):
 *   direct   the hub alone, answering its part (for (b): the very _entities call the gateway makes)
 *   gateway  the same hub-only query through the gateway (pure gateway overhead)
 *   federated  the full query through the gateway, genomic fields included
 * and counts the hub's SQL statements for a 500-representation _entities call.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { bootstrap } from '../src/app.js';
import { GATEWAY_SECRET_HEADER } from '../src/graphql/federation.js';
import { startBioProjectSubgraph } from '../federation/bioproject/server.js';
import { composeSupergraph } from '../federation/composition.js';
import { startGateway } from '../federation/gateway/gateway.js';
import { startGsaHumanSubgraph } from '../federation/gsa-human/server.js';
import { SeedGsaHumanSource } from '../federation/gsa-human/source.js';

const RUNS = Number(process.env.RUNS ?? 200);
const SCALE = Number(process.env.OBIA_SEED_SCALE ?? 0.02);
const SECRET = 'bench-secret';

const A_HUB = `{ individuals(first: 100, filter: { disease: "ovarian cancer", modality: ["CT"] }) { edges { node { accession age studies { accession series { modality } } gsaHuman { accession } } } } }`;
const A_FULL = A_HUB.replace('gsaHuman { accession }', 'gsaHuman { accession runs { accession platform fileSize } }');
const B_FIELDS = `imagingCollections { accession seriesCountsByModality { modality series } } imagingCounts { series images }`;
const B_DIRECT = `{ _entities(representations: [{ __typename: "BioProject", accession: "PRJCA013582" }]) { ... on BioProject { ${B_FIELDS} } } }`;
const B_HUB_VIA_GATEWAY = `{ bioProject(accession: "PRJCA013582") { ${B_FIELDS} } }`;
const B_FULL = `{ bioProject(accession: "PRJCA013582") { title organism { name } grants { agency } ${B_FIELDS} } }`;

async function post(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  const body = await res.json() as { errors?: unknown };
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body;
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 20; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((x, y) => x - y);
  const row = { label, p50: percentile(ms, 50), p95: percentile(ms, 95) };
  console.log(`${label.padEnd(36)} p50 ${row.p50.toFixed(2).padStart(7)} ms   p95 ${row.p95.toFixed(2).padStart(7)} ms`);
  return row;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-'));
  const hub = await bootstrap({ config: { dataDir, keysDir: path.join(dataDir, 'keys'), databaseUrl: null, gatewaySecret: SECRET }, seedIfEmpty: { scale: SCALE }, listen: false, log: () => {} });
  const hubUrl = `${hub.url}/graphql`;
  const bioproject = await startBioProjectSubgraph({ port: 0 });
  const gsaHuman = await startGsaHumanSubgraph({ port: 0, source: new SeedGsaHumanSource(SCALE) });
  const gateway = await startGateway({ port: 0, supergraphSdl: await composeSupergraph(), hubSecret: SECRET, urls: { hub: hubUrl, bioproject: bioproject.url, 'gsa-human': gsaHuman.url } });
  const asGateway = { [GATEWAY_SECRET_HEADER]: SECRET };
  try {
    console.log(`seed scale ${SCALE}, ${RUNS} sequential runs each (after 20 warm-up), node ${process.version}, ${os.cpus().length} CPUs`);
    const a = [
      await time('(a) direct hub', () => post(hubUrl, A_HUB)),
      await time('(a) gateway, hub-only query', () => post(gateway.url, A_HUB)),
      await time('(a) gateway, with GSA-Human runs', () => post(gateway.url, A_FULL)),
    ];
    const b = [
      await time('(b) direct hub (_entities)', () => post(hubUrl, B_DIRECT, asGateway)),
      await time('(b) gateway, hub fields only', () => post(gateway.url, B_HUB_VIA_GATEWAY)),
      await time('(b) gateway, with BioProject fields', () => post(gateway.url, B_FULL)),
    ];
    for (const [name, rows] of [['(a)', a], ['(b)', b]] as const) {
      console.log(`${name} gateway overhead: p50 +${(rows[1]!.p50 - rows[0]!.p50).toFixed(2)} ms (hub-only), +${(rows[2]!.p50 - rows[0]!.p50).toFixed(2)} ms (federated); p95 +${(rows[1]!.p95 - rows[0]!.p95).toFixed(2)} / +${(rows[2]!.p95 - rows[0]!.p95).toFixed(2)} ms`);
    }
    const knex = (hub.orm.em as EntityManager).getKnex();
    const images = await knex('image').select('uid').orderBy('id').limit(500);
    const reps = images.map((r: any) => ({ __typename: 'Image', uid: r.uid }));
    let statements = 0;
    const count = () => { statements++; };
    knex.on('query', count);
    await fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...asGateway }, body: JSON.stringify({ query: 'query($r:[_Any!]!){ _entities(representations:$r){ ... on Image { uid size } } }', variables: { r: reps } }) });
    knex.removeListener('query', count);
    console.log(`hub SQL statements for one _entities call with ${reps.length} Image representations: ${statements}`);
  } finally {
    await gateway.stop();
    await bioproject.stop();
    await gsaHuman.stop();
    await hub.close();
    hub.server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
