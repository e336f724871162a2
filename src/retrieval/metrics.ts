/**
 * Retrieval metrics over a Hamming ranking. The ranking is (distance, database id)
 * ascending — the order HashIndex.search returns — so the figures are those a user of
 * the index would see, with ties resolved deterministically.
 */

export interface CodeSet {
  lo: Uint32Array;
  hi: Uint32Array;
  labels: Int32Array;
}

export function toCodeSet(codes: readonly bigint[], labels: ArrayLike<number>): CodeSet {
  const lo = new Uint32Array(codes.length), hi = new Uint32Array(codes.length);
  codes.forEach((c, i) => {
    lo[i] = Number(c & 0xffffffffn);
    hi[i] = Number(c >> 32n);
  });
  return { lo, hi, labels: Int32Array.from(labels) };
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * Average precision for one query: over the full ranking, and over its first `topK`
 * (AP@k divides by the relevant items found within k; 0 if none). `db` must be
 * ordered by id so a stable counting sort by distance yields the (distance, id) order.
 */
export interface RankingQuality {
  /** average precision over the whole ranking */
  full: number;
  /** average precision over the first k */
  atK: number;
  /** share of relevant items among the first 10 */
  pAt10: number;
}

export function averagePrecision(qLo: number, qHi: number, qLabel: number, db: CodeSet, topK: number): RankingQuality {
  const n = db.lo.length;
  const dist = new Uint8Array(n);
  const count = new Int32Array(66);
  for (let i = 0; i < n; i++) {
    const d = popcount32(db.lo[i] ^ qLo) + popcount32(db.hi[i] ^ qHi);
    dist[i] = d;
    count[d + 1]++;
  }
  for (let d = 1; d < 66; d++) count[d] += count[d - 1];
  const relAtRank = new Uint8Array(n);
  for (let i = 0; i < n; i++) relAtRank[count[dist[i]]++] = db.labels[i] === qLabel ? 1 : 0;
  let hits = 0, sum = 0, hitsK = 0, sumK = 0, hits10 = 0;
  for (let r = 0; r < n; r++) {
    if (!relAtRank[r]) continue;
    if (r < 10) hits10++;
    hits++;
    sum += hits / (r + 1);
    if (r < topK) {
      hitsK++;
      sumK += hitsK / (r + 1);
    }
  }
  return { full: hits ? sum / hits : 0, atK: hitsK ? sumK / hitsK : 0, pAt10: hits10 / Math.min(10, n) };
}

export function meanAveragePrecision(queries: CodeSet, db: CodeSet, topK: number): RankingQuality {
  let full = 0, atK = 0, pAt10 = 0;
  for (let q = 0; q < queries.lo.length; q++) {
    const ap = averagePrecision(queries.lo[q], queries.hi[q], queries.labels[q], db, topK);
    full += ap.full;
    atK += ap.atK;
    pAt10 += ap.pAt10;
  }
  const n = queries.lo.length;
  return { full: full / n, atK: atK / n, pAt10: pAt10 / n };
}

/** Seeded Fisher–Yates permutation (mulberry32), for database ids that carry no class order. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
