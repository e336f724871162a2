/**
 * `npm run bench:portal`: what the portal's browse page costs the hub, per page view, at the scale
 * loaded in the configured database (the seed of `npm start` by default): the facets request
 * (every facet count, one request of aliased `statistics`) and the results request, each as
 * server CPU per request and wall p50/p95 over real HTTP. For comparison, the facets request
 * again with every `statistics` alias asking all four tables — what each alias cost before
 * statistics counted only the tables asked for.
 *   OBIA_DATA_DIR=/tmp/obia-bench npm run bench:portal          (seeds 0.02 into an empty archive)
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/obia_bench npm run bench:portal
 */
import 'reflect-metadata';
import { bootstrap } from '../src/app.js';
import { BROWSE_SERIES, browseFacets } from '../portal/src/api/operations.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const SCALE = Number(process.env.OBIA_SEED_SCALE ?? 0.02);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const app = await bootstrap({ listen: false, seedIfEmpty: { scale: SCALE }, log: () => {} });
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const totals = (await post('{ statistics { total { individuals studies series images } } }')).statistics.total;
  console.log(`archive: ${totals.individuals} individuals, ${totals.studies} studies, ${totals.series} series, ${totals.images} images (${app.config.databaseUrl ? 'MySQL/MariaDB' : 'SQLite'})`);

  const filter = { modality: ['MR'], sex: ['FEMALE'] };
  const facets = browseFacets(filter);
  // Same aliases and filters, each asking all four tables (the cost of every alias before lazy statistics).
  const allTables = facets.query.replace(/statistics\(filter: (\$\w+)\) \{[^\n]*\}$/gm, 'statistics(filter: $1) { total { series } byCollection { key series } byModality { key series } byAnatomicalSite { key series } }');
  const cases: [string, () => Promise<unknown>][] = [
    ['browse facets (1 request, 18 statistics aliases)', () => post(facets.query, facets.variables)],
    ['browse results (first 25 series)', () => post(BROWSE_SERIES, { filter, first: 25 })],
    ['facets if every alias counted all four tables', () => post(allTables, facets.variables)],
  ];
  const cpuPer: number[] = [];
  for (const [name, run] of cases) {
    for (let i = 0; i < 5; i++) await run(); // warm caches and JIT
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / ITERATIONS;
    cpuPer.push(cpuMs);
    times.sort((a, b) => a - b);
    console.log(`${name}: ${cpuMs.toFixed(1)} ms CPU per request (hub and client in this process), wall p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms (n=${ITERATIONS})`);
  }
  console.log(`one browse page view: ${(cpuPer[0]! + cpuPer[1]!).toFixed(1)} ms CPU in 2 requests; all-four-tables facets cost ${(cpuPer[2]! / cpuPer[0]!).toFixed(2)}x the facets request`);
  await app.close();
  app.server.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
