/**
 * npm run eval:retrieval [-- --model path.onnx]
 *
 * Database: the train split (24,000 images). Queries: every val image (3,000), none of
 * which is in the database. Relevant = same class. Ranking = (Hamming distance, id)
 * with database ids a seeded permutation of the files, so ties are not resolved in
 * class order. Reports mAP@30 and mAP over the full ranking for the model and for the
 * pHash/dHash baselines.
 */
import { decodeImageFile } from '../decode';
import { listSplit, retrievalDataRoot, type LabelledFile } from '../dataset';
import { HashIndex } from '../HashIndex';
import { DEFAULT_MODEL_PATH, HashModel } from '../HashModel';
import { meanAveragePrecision, seededPermutation, toCodeSet } from '../metrics';
import { dHash, pHash } from '../perceptualHash';
import type { Gray8Image } from '../preprocess';

const TOP_K = 30;

async function decodeAll(files: LabelledFile[]): Promise<Gray8Image[]> {
  const out: Gray8Image[] = [];
  for (const f of files) out.push(await decodeImageFile(f.path));
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const modelPath = args.includes('--model') ? args[args.indexOf('--model') + 1] : DEFAULT_MODEL_PATH;
  const root = retrievalDataRoot();
  const t0 = performance.now();
  const train = listSplit('train', root);
  const val = listSplit('val', root);
  const [dbImages, qImages] = [await decodeAll(train.files), await decodeAll(val.files)];
  console.log(`data: ${root}\n  database = train split, ${dbImages.length} images; queries = val split, ${qImages.length} images; ${train.classes.length} classes`);
  console.log(`  decoded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // File i of the train split gets database id perm[i]; metrics want the database in id order.
  const perm = seededPermutation(dbImages.length, 1);
  const byId = <T>(xs: readonly T[]): T[] => {
    const out = new Array<T>(xs.length);
    xs.forEach((x, i) => (out[perm[i]] = x));
    return out;
  };
  const dbLabels = byId(train.files.map((f) => f.label));
  const qLabels = val.files.map((f) => f.label);

  const model = await HashModel.load(modelPath);
  const t1 = performance.now();
  const ours = { db: await model.hashImages(dbImages), q: await model.hashImages(qImages) };
  const inferMs = performance.now() - t1;
  await model.close();
  console.log(`  model ${modelPath}: ${((inferMs / (dbImages.length + qImages.length)) * 1000).toFixed(0)} µs/image (preprocess + onnxruntime, 1 thread)`);

  const methods: { name: string; db: bigint[]; q: bigint[] }[] = [
    { name: 'obia-hash64 (CNN)', ...ours },
    { name: 'pHash', db: dbImages.map(pHash), q: qImages.map(pHash) },
    { name: 'dHash', db: dbImages.map(dHash), q: qImages.map(dHash) },
  ];

  const rows: string[][] = [];
  for (const m of methods) {
    const db = toCodeSet(byId(m.db), dbLabels);
    const { full, atK } = meanAveragePrecision(toCodeSet(m.q, qLabels), db, TOP_K);
    rows.push([m.name, '64', atK.toFixed(4), full.toFixed(4)]);
  }

  // Cross-check: mAP@30 from the production index must equal the metric's own ranking.
  const index = new HashIndex();
  index.rebuild(byId(ours.db).map((c, id) => [id, c] as const));
  let apSum = 0;
  ours.q.forEach((q, i) => {
    let hits = 0, s = 0;
    index.search(q, TOP_K).forEach((h, r) => {
      if (dbLabels[h.id] === qLabels[i]) s += ++hits / (r + 1);
    });
    apSum += hits ? s / hits : 0;
  });
  const indexMap = apSum / ours.q.length;

  const header = ['method', 'bits', `mAP@${TOP_K}`, 'mAP (full ranking)'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c])).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(`\nHashIndex top-${TOP_K} cross-check for the CNN: mAP@${TOP_K} ${indexMap.toFixed(4)}`);
  if (Math.abs(indexMap - Number(rows[0][2])) > 1e-4) {
    console.error('mismatch between HashIndex ranking and metric ranking');
    process.exitCode = 1;
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
