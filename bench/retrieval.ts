/**
 * npm run bench:retrieval [-- --queries 50] [--sizes 1938309,10000000]
 * Top-30 Hamming search latency over 1,938,309 (OBIA 2023) and 10,000,000 random
 * 64-bit codes (or the --sizes given: docs/scale.md runs 100,000,000, ~4 GiB of memory), one
 * thread: HashIndex (WebAssembly scan) vs a naive JavaScript popcount scan (vs faiss-node when
 * installed). The HashIndex answers are checked against the naive scan (at most 20 of them, 3
 * above 10^7 codes, where one naive scan takes seconds).
 */
import { FaissIndex, isFaissAvailable } from '../src/retrieval/FaissIndex';
import { HashIndex, type SearchHit } from '../src/retrieval/HashIndex';
import { popcount32 } from '../src/retrieval/metrics';

const K = 30;

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** The obvious JavaScript approach: distance for every code, then a histogram cut and a sort. */
function naiveSearch(lo: Uint32Array, hi: Uint32Array, ids: Uint32Array, q: bigint, k: number, dist: Uint8Array): SearchHit[] {
  const qLo = Number(q & 0xffffffffn), qHi = Number(q >> 32n);
  const hist = new Int32Array(65);
  for (let i = 0; i < lo.length; i++) {
    const d = popcount32(lo[i] ^ qLo) + popcount32(hi[i] ^ qHi);
    dist[i] = d;
    hist[d]++;
  }
  let cut = 0;
  for (let acc = 0; cut < 64 && acc + hist[cut] < k; cut++) acc += hist[cut];
  const hits: SearchHit[] = [];
  for (let i = 0; i < lo.length; i++) if (dist[i] <= cut) hits.push({ id: ids[i], distance: dist[i] });
  return hits.sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, k);
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  return `p50 ${pct(50).toFixed(2).padStart(7)} ms   p95 ${pct(95).toFixed(2).padStart(7)} ms   (n=${s.length})`;
}

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

function main(): void {
  const args = process.argv.slice(2);
  const nq = args.includes('--queries') ? Number(args[args.indexOf('--queries') + 1]) : 50;
  console.log(`top-${K} exact Hamming search, one thread, node ${process.version}\n`);
  const sizes = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1]!.split(',').map(Number) : [1_938_309, 10_000_000];
  for (const n of sizes) {
    const rand = xorshift(n);
    const codes = new BigUint64Array(n);
    const halves = new Uint32Array(codes.buffer);
    for (let i = 0; i < halves.length; i++) halves[i] = rand();
    const lo = new Uint32Array(n), hi = new Uint32Array(n), ids = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      lo[i] = halves[2 * i];
      hi[i] = halves[2 * i + 1];
      ids[i] = i;
    }
    const index = new HashIndex();
    const [, buildMs] = time(() => index.rebuildPacked(ids, codes));
    // Half random queries, half near-duplicates of stored codes (what image retrieval mostly sees).
    const queries = Array.from({ length: nq }, (_, j) =>
      j % 2 ? BigInt.asUintN(64, (BigInt(rand()) << 32n) | BigInt(rand())) : codes[rand() % n] ^ (1n << BigInt(rand() % 64)) ^ (1n << BigInt(rand() % 64)),
    );
    for (let w = 0; w < 10; w++) index.search(queries[w % nq], K); // let V8 tier the module up
    const ours: number[] = [];
    const answers: SearchHit[][] = [];
    for (const q of queries) {
      const [r, ms] = time(() => index.search(q, K));
      ours.push(ms);
      answers.push(r);
    }
    // Browse filters / access rules arrive as an id-indexed byte mask (copied per query).
    const mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) mask[i] = rand() & 1;
    const masked: number[] = [];
    for (const q of queries) masked.push(time(() => index.search(q, K, mask))[1]);
    const dist = new Uint8Array(n);
    const naive: number[] = [];
    const nNaive = Math.min(nq, n > 10_000_000 ? 3 : 20);
    for (let j = 0; j < nNaive; j++) {
      const [r, ms] = time(() => naiveSearch(lo, hi, ids, queries[j], K, dist));
      naive.push(ms);
      if (JSON.stringify(r) !== JSON.stringify(answers[j])) throw new Error(`HashIndex and naive scan disagree on query ${j} at n=${n}`);
    }
    console.log(`n = ${n.toLocaleString('en-US')} codes (${((n * 12) / 2 ** 20).toFixed(0)} MiB packed with ids; build ${buildMs.toFixed(0)} ms; process RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`);
    console.log(`  HashIndex (wasm)     ${stats(ours)}`);
    console.log(`  HashIndex, 50% mask  ${stats(masked)}`);
    console.log(`  naive JS popcount    ${stats(naive)}   same answers: yes`);
    if (isFaissAvailable()) {
      const f = new FaissIndex();
      f.addMany(ids, codes);
      const ft: number[] = [];
      for (const q of queries.slice(0, 10)) ft.push(time(() => f.search(q, K))[1]);
      console.log(`  faiss IndexFlatL2    ${stats(ft)}`);
    } else {
      console.log('  faiss-node           not installed (skipped)');
    }
    console.log('');
  }
}

main();
