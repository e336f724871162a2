/**
 * `npm run bench:similar`: similarImages end to end over HTTP — upload → decode → ONNX model →
 * Hamming index → metadata — on whatever the configured database holds. At the paper's scale
 * (a MariaDB of its own with a 4 GiB buffer pool, as docs/scale.md starts it; the shared 3306's
 * 128 MiB pool holds little of the 1.94 M-image archive):
 *   DATABASE_URL=mysql://root@127.0.0.1:3417/obia_sim npm run seed -- --scale 1
 *   DATABASE_URL=mysql://root@127.0.0.1:3417/obia_sim npm run bench:similar
 * Prints p50/p95 wall time, the CPU time of this process per query (server and client share it:
 * the client is this process's fetch), the in-process cost of the two fixed stages — model
 * (decode + preprocess + inference) and the index scan over every code — and the load average
 * before and after (on a shared machine the wall times follow it; the CPU times much less).
 * BENCH_CPU_PROFILE=DIR writes a V8 CPU profile of each timed loop alone (start-up and warm-up left
 * out, unlike node --cpu-prof) to DIR/similar-small.cpuprofile and DIR/similar-large.cpuprofile.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { bootstrap } from '../src/app.js';
import { decodeImage } from '../src/retrieval/decode.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const VAL = process.env.OBIA_RETRIEVAL_DATA ?? path.resolve(process.cwd(), '../shared/retrieval/val');
const BRAIN = path.resolve(process.cwd(), '../shared/retrieval-brain/train');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function sample(dir: string, perClass: number): Buffer[] {
  return fs.readdirSync(dir).sort().flatMap((cls) => fs.readdirSync(path.join(dir, cls)).sort().slice(0, perClass).map((f) => fs.readFileSync(path.join(dir, cls, f))));
}

async function main() {
  const t0 = performance.now();
  const app = await bootstrap({ listen: false, seedIfEmpty: false, log: () => {} });
  const codes = app.hashCatalog.index.size;
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`start-up with ${codes} codes in the index: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const query = `query($b: String!) { similarImages(image: { base64: $b }, k: 30) { distance image { uid series { modality anatomicalSite study { accession individual { accession collection { accession } } } } } } }`;

  const model = await app.hashCatalog.hashModel();
  for (const [label, tag, files] of [['64×64 JPEG (Medical MNIST)', 'small', sample(VAL, 20)], ['512×512 JPEG (brain MR)', 'large', sample(BRAIN, 10)]] as const) {
    const uploads = files.map((b) => b.toString('base64'));
    const run = async (i: number) => {
      const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { b: uploads[i % uploads.length] } }) });
      const body: any = await res.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data.similarImages.length;
    };
    for (let i = 0; i < 10; i++) await run(i);
    const loadBefore = load();
    const profiler = PROFILE_DIR ? new Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) {
      const s = performance.now();
      await run(i);
      times.push(performance.now() - s);
    }
    const cpu = process.cpuUsage(cpu0);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      fs.mkdirSync(PROFILE_DIR!, { recursive: true });
      fs.writeFileSync(path.join(PROFILE_DIR!, `similar-${tag}.cpuprofile`), JSON.stringify(profile));
      profiler.disconnect();
    }
    times.sort((a, b) => a - b);

    // The fixed stages on their own, in process: the model (decode + preprocess + inference) and one full index scan.
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    let c = process.cpuUsage();
    const got: bigint[] = [];
    for (let r = 0; r < 3; r++) for (const f of files) got.push(await model.hashImage(await decodeImage(f)));
    const modelMs = cpuMs(process.cpuUsage(c)) / (3 * files.length);
    c = process.cpuUsage();
    for (let i = 0; i < 100; i++) app.hashCatalog.index.search(got[i % got.length]!, 30);
    const scanMs = cpuMs(process.cpuUsage(c)) / 100;

    console.log(`similarImages, ${label} upload, k=30, with navigation to collection, ${codes} codes: p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms (n=${ITERATIONS}); `
      + `CPU ${((cpu.user + cpu.system) / 1000 / ITERATIONS).toFixed(2)} ms/query; of which model ${modelMs.toFixed(2)} ms CPU (decode + preprocess + ${model.side}×${model.side} inference), index scan ${scanMs.toFixed(2)} ms CPU; load average ${loadBefore} before, ${load()} after`);
  }
  await app.close();
  app.server.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
