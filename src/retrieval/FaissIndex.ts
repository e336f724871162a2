/**
 * Optional backend over faiss-node (not a dependency; see isFaissAvailable()).
 * faiss-node only has float indexes, so codes are stored as ±1 vectors in IndexFlatL2,
 * where L2² = 4·Hamming ranks exactly by Hamming. Measured slower than HashIndex
 * (DESIGN.md: ~90 ms per query at 2M); kept for comparison in bench/retrieval.ts.
 * Removals are tombstoned and the faiss index rebuilt lazily on the next search.
 */
import type { SearchHit } from './HashIndex';

interface FaissFlat {
  add(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  ntotal(): number;
}
interface FaissModule {
  IndexFlatL2: new (d: number) => FaissFlat;
}

function loadFaiss(): FaissModule | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('faiss-node') as FaissModule;
  } catch {
    return null;
  }
}

export function isFaissAvailable(): boolean {
  return loadFaiss() !== null;
}

function toVector(code: bigint, out: number[]): void {
  for (let i = 0; i < 64; i++) out.push((code >> BigInt(i)) & 1n ? 1 : -1);
}

export class FaissIndex {
  private readonly faiss: FaissModule;
  private index: FaissFlat;
  private ids: number[] = [];
  private codes: bigint[] = [];
  private readonly live = new Map<number, number>(); // id → position
  private dirty = false;

  constructor() {
    const m = loadFaiss();
    if (!m) throw new Error('faiss-node is not installed');
    this.faiss = m;
    this.index = new m.IndexFlatL2(64);
  }

  get size(): number {
    return this.live.size;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  add(id: number, code: bigint): void {
    if (this.live.has(id)) this.remove(id);
    this.live.set(id, this.ids.length);
    this.ids.push(id);
    this.codes.push(code);
    if (!this.dirty) {
      const v: number[] = [];
      toVector(code, v);
      this.index.add(v);
    }
  }

  addMany(ids: ArrayLike<number>, codes: BigUint64Array): void {
    const v: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      this.live.set(ids[i], this.ids.length);
      this.ids.push(ids[i]);
      this.codes.push(codes[i]);
      toVector(codes[i], v);
    }
    if (!this.dirty) this.index.add(v);
  }

  remove(id: number): boolean {
    const pos = this.live.get(id);
    if (pos === undefined) return false;
    this.live.delete(id);
    this.ids[pos] = -1;
    this.dirty = true;
    return true;
  }

  /** Nearest first, ties by id; ties cut at the k-th place follow faiss's order, not id order. */
  search(code: bigint, k: number): SearchHit[] {
    if (this.dirty) this.compact();
    const n = this.index.ntotal();
    if (n === 0 || k <= 0) return [];
    const q: number[] = [];
    toVector(code, q);
    const r = this.index.search(q, Math.min(k, n));
    return r.labels
      .map((pos, j) => ({ id: this.ids[pos], distance: Math.round(r.distances[j] / 4) }))
      .sort((a, b) => a.distance - b.distance || a.id - b.id);
  }

  private compact(): void {
    const ids: number[] = [], codes: bigint[] = [], v: number[] = [];
    this.live.clear();
    this.ids.forEach((id, pos) => {
      if (id < 0) return;
      this.live.set(id, ids.length);
      ids.push(id);
      codes.push(this.codes[pos]);
      toVector(this.codes[pos], v);
    });
    this.ids = ids;
    this.codes = codes;
    this.index = new this.faiss.IndexFlatL2(64);
    if (v.length) this.index.add(v);
    this.dirty = false;
  }
}
