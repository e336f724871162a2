/**
 * `npm run bench:browse`: p50/p95 of the browse API's hot paths over real HTTP, at the scale
 * loaded in the target database. Full scale on MariaDB:
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/obia_bench npm run seed -- --scale 1 --reset
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/obia_bench npm run bench:browse
 */
import 'reflect-metadata';
import { bootstrap } from '../src/app.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const app = await bootstrap({ listen: false, seedIfEmpty: false, log: () => {} });
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const totals = (await post('{ statistics { total { individuals studies series images } } }')).statistics.total;
  console.log(`archive: ${totals.individuals} individuals, ${totals.studies} studies, ${totals.series} series, ${totals.images} images (${app.config.databaseUrl ? 'MySQL/MariaDB' : 'SQLite'})`);

  const accessions = (await post('{ studies(first: 200) { edges { node { accession } } } }')).studies.edges.map((e: any) => e.node.accession);
  const cases: [string, (i: number) => Promise<unknown>][] = [
    ['(a) page of 50 series, MR + PELVIS + age 40-60, with image counts', (i) => post(
      `query($after: String) { seriesList(first: 50, after: $after, filter: { modality: ["MR"], anatomicalSite: ["PELVIS"], ageMin: 40, ageMax: 60 }) { totalCount pageInfo { endCursor } edges { node { uid modality anatomicalSite imageCount } } } }`,
      { after: null, i })],
    ['(b) statistics, unfiltered', () => post('{ statistics { byCollection { key individuals studies series images } byModality { key individuals studies series images } byAnatomicalSite { key individuals studies series images } } }')],
    ['(b) statistics, filtered (CT, age 40-60, GSA-Human link)', () => post('{ statistics(filter: { modality: ["CT"], ageMin: 40, ageMax: 60, hasGsaHumanLink: true }) { byCollection { key individuals studies series images } byModality { key series images } byAnatomicalSite { key series images } } }')],
    ['(c) lookup by accession', (i) => post('query($id: ID!) { lookup(id: $id) { __typename ... on Study { accession studyDate } } }', { id: accessions[i % accessions.length] })],
  ];
  for (const [name, run] of cases) {
    for (let i = 0; i < 10; i++) await run(i); // warm caches and JIT
    const times: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now();
      await run(i);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`${name}: p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms (n=${ITERATIONS})`);
  }
  await app.close();
  app.server.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
