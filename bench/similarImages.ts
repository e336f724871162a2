/**
 * `npm run bench:similar`: similarImages end to end over HTTP — upload → decode → ONNX model →
 * Hamming index → metadata — on whatever the configured database holds. At the paper's scale:
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/obia_bench npm run seed -- --scale 1 --reset
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/obia_bench npm run bench:similar
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { bootstrap } from '../src/app.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const VAL = process.env.OBIA_RETRIEVAL_DATA ?? path.resolve(process.cwd(), '../shared/retrieval/val');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const t0 = performance.now();
  const app = await bootstrap({ listen: false, seedIfEmpty: false, log: () => {} });
  console.log(`start-up with ${app.hashCatalog.index.size} codes in the index: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const uploads = fs.readdirSync(VAL).flatMap((cls) => fs.readdirSync(path.join(VAL, cls)).slice(0, 20).map((f) => fs.readFileSync(path.join(VAL, cls, f)).toString('base64')));
  const query = `query($b: String!) { similarImages(image: { base64: $b }, k: 30) { distance image { uid series { modality anatomicalSite study { accession individual { accession collection { accession } } } } } } }`;
  const run = async (i: number) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { b: uploads[i % uploads.length] } }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data.similarImages.length;
  };
  for (let i = 0; i < 10; i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const s = performance.now();
    await run(i);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(`similarImages (64x64 JPEG upload, k=30, with navigation to collection): p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms (n=${ITERATIONS})`);
  await app.close();
  app.server.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
