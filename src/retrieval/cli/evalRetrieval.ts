/**
 * npm run eval:retrieval [-- --model path.onnx] [--previous path.onnx] [--stability-queries N] [--threads N]
 *
 * Two benchmarks, one model (the hub runs one index):
 *   Medical MNIST   database = train split (24,000), queries = val split (3,000), 6 classes.
 *   brain-tumour MR database = patient blocks 0–2 of every 5 (what the model trained on), queries =
 *                   block 3 of every 5, never trained on (src/retrieval/dataset.ts); 3 tumour types.
 * Relevant = same class. Ranking = (Hamming distance, id), database ids a seeded permutation of
 * the files, so ties are not resolved in class order. For each method: mAP@30, mAP over the
 * full ranking, P@10, and stability — the share of queries whose code moves by at most 2 bits
 * when the image is saved again as JPEG q90 or resized by ±10 % (bilinear), worst of the three.
 * Methods: the shipped model, the previous model (models/obia-hash64-v1.onnx), pHash and dHash.
 * Then the default archive's own images (seedArchive.ts): for each model, the share of them
 * whose 5 nearest others keep their modality and site, per group.
 *
 * Model files: the default paths must be the pinned models (src/retrieval/modelFile.ts) and are
 * refused otherwise; a path given explicitly (`--model`, `--previous`) is loaded unchecked, on
 * purpose — that is how a freshly trained, not yet shipped model is evaluated.
 */
import * as path from 'node:path';
import { hamming } from '../code';
import { decodeImageFile } from '../decode';
import { brainDataRoot, brainIsHeldOut, listSplit, retrievalDataRoot, type LabelledFile } from '../dataset';
import { HashIndex } from '../HashIndex';
import { DEFAULT_MODEL_PATH, HashModel } from '../HashModel';
import { meanAveragePrecision, seededPermutation, toCodeSet } from '../metrics';
import { dHash, pHash } from '../perceptualHash';
import { PERTURBATIONS } from '../perturb';
import type { Gray8Image } from '../preprocess';
import { seedArchiveImages, seedNeighbourCheck } from '../seedArchive';

const TOP_K = 30;
const STABLE_BITS = 2;
export const PREVIOUS_MODEL_PATH = path.join(path.dirname(DEFAULT_MODEL_PATH), 'obia-hash64-v1.onnx');

interface Benchmark {
  name: string;
  db: { files: LabelledFile[]; images: Gray8Image[] };
  q: { files: LabelledFile[]; images: Gray8Image[] };
}

type Hasher = { name: string; hash: (images: Gray8Image[]) => Promise<bigint[]>; usPerImage?: number };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function decodeAll(files: LabelledFile[]): Promise<Gray8Image[]> {
  const out: Gray8Image[] = [];
  for (const f of files) out.push(await decodeImageFile(f.path));
  return out;
}

async function benchmarks(): Promise<Benchmark[]> {
  const mnistRoot = retrievalDataRoot();
  const train = listSplit('train', mnistRoot).files, val = listSplit('val', mnistRoot).files;
  const brain = listSplit('train', brainDataRoot()).files;
  const brainDb = brain.filter((f) => !brainIsHeldOut(f)), brainQ = brain.filter(brainIsHeldOut);
  return [
    { name: 'Medical MNIST', db: { files: train, images: await decodeAll(train) }, q: { files: val, images: await decodeAll(val) } },
    { name: 'brain-tumour MR', db: { files: brainDb, images: await decodeAll(brainDb) }, q: { files: brainQ, images: await decodeAll(brainQ) } },
  ];
}

function modelHasher(name: string, model: HashModel): Hasher {
  const h: Hasher = {
    name,
    hash: async (images) => {
      const t = performance.now();
      const codes = await model.hashImages(images);
      h.usPerImage = ((performance.now() - t) * 1000) / images.length;
      return codes;
    },
  };
  return h;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const threads = Number(arg('--threads') ?? 1);
  const modelArg = arg('--model'), previousArg = arg('--previous');
  for (const [flag, given] of [['--model', modelArg], ['--previous', previousArg]] as const) {
    if (given) console.error(`${flag} ${given}: loaded without checking its sha256 against a pinned model (an explicit path is research)`);
  }
  const ours = await HashModel.load(modelArg ?? DEFAULT_MODEL_PATH, { intraOpThreads: threads, pin: modelArg ? false : 'obia-hash64' });
  const previous = await HashModel.load(previousArg ?? PREVIOUS_MODEL_PATH, { intraOpThreads: threads, pin: previousArg ? false : 'obia-hash64-v1' });
  const nStable = Number(arg('--stability-queries') ?? 600);
  const hashers: Hasher[] = [
    modelHasher(`obia-hash64 (${ours.side}×${ours.side})`, ours),
    modelHasher(`previous model (${previous.side}×${previous.side})`, previous),
    { name: 'pHash (pixel DCT)', hash: async (imgs) => imgs.map(pHash) },
    { name: 'dHash (pixel gradient)', hash: async (imgs) => imgs.map(dHash) },
  ];

  const rows: string[][] = [];
  let failed = false;
  for (const b of await benchmarks()) {
    console.log(`${b.name}: database ${b.db.images.length} images, queries ${b.q.images.length} (decoded at ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    // File i of the database gets id perm[i]; metrics want the database in id order.
    const perm = seededPermutation(b.db.images.length, 1);
    const byId = <T>(xs: readonly T[]): T[] => {
      const out = new Array<T>(xs.length);
      xs.forEach((x, i) => (out[perm[i]] = x));
      return out;
    };
    const dbLabels = byId(b.db.files.map((f) => f.label));
    const qLabels = b.q.files.map((f) => f.label);
    // A seeded sample of queries for stability (perturbing 512×512 slices is the slow part).
    const sample = [...seededPermutation(b.q.images.length, 2)].slice(0, nStable);
    const perturbed: { name: string; images: Gray8Image[] }[] = [];
    for (const p of PERTURBATIONS) perturbed.push({ name: p.name, images: await Promise.all(sample.map((i) => p.apply(b.q.images[i]))) });

    for (const h of hashers) {
      const db = await h.hash(b.db.images);
      const q = await h.hash(b.q.images);
      const quality = meanAveragePrecision(toCodeSet(q, qLabels), toCodeSet(byId(db), dbLabels), TOP_K);
      const stable: number[] = [];
      for (const p of perturbed) {
        const moved = await h.hash(p.images);
        stable.push(moved.filter((c, j) => hamming(c, q[sample[j]]) <= STABLE_BITS).length / sample.length);
      }
      rows.push([b.name, h.name, quality.atK.toFixed(4), quality.full.toFixed(4), quality.pAt10.toFixed(4),
        ...stable.map((s) => `${(100 * s).toFixed(1)}%`), `${(100 * Math.min(...stable)).toFixed(1)}%`]);

      if (h === hashers[0]) {
        // Cross-check: mAP@30 from the production index must equal the metric's own ranking.
        const index = new HashIndex();
        index.rebuild(byId(db).map((c, id) => [id, c] as const));
        let apSum = 0;
        q.forEach((code, i) => {
          let hits = 0, s = 0;
          index.search(code, TOP_K).forEach((hit, r) => {
            if (dbLabels[hit.id] === qLabels[i]) s += ++hits / (r + 1);
          });
          apSum += hits ? s / hits : 0;
        });
        if (Math.abs(apSum / q.length - quality.atK) > 1e-4) {
          console.error(`${b.name}: HashIndex top-${TOP_K} mAP ${(apSum / q.length).toFixed(4)} differs from the metric's ${quality.atK.toFixed(4)}`);
          failed = true;
        }
      }
    }
  }
  for (const h of hashers) if (h.usPerImage) console.log(`  ${h.name}: ${h.usPerImage.toFixed(0)} µs/image on the last batch (preprocess + onnxruntime, ${threads} thread(s))`);
  const seed = await seedArchiveImages();
  const seedRows: string[] = [];
  for (const h of hashers) {
    const check = seedNeighbourCheck(seed, await h.hash(seed.map((s) => s.gray)));
    seedRows.push(`  ${h.name.padEnd(28)} chest X-rays keep chest X-ray neighbours: ${check.chestXrayKept ? 'yes' : 'NO '}  `
      + [...check.byGroup].map(([g, [ok, n]]) => `${g} ${ok}/${n}`).join(', '));
  }
  await ours.close();
  await previous.close();

  const header = ['benchmark', 'method (64 bits)', `mAP@${TOP_K}`, 'mAP (full)', 'P@10', ...PERTURBATIONS.map((p) => `≤${STABLE_BITS} bits: ${p.name}`), 'stability (worst)'];
  const widths = header.map((hd, c) => Math.max(hd.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c])).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(`\ndefault archive (${seed.length} images): images whose 5 nearest others are of their group (modality, site)`);
  for (const r of seedRows) console.log(r);
  console.log(`\nstability: share of ${nStable} seeded queries per benchmark whose code moves by ≤ ${STABLE_BITS} bits; HashIndex cross-check ${failed ? 'FAILED' : 'passed'}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
