import { HIST_BYTES, instantiateScan, type ScanInstance } from './wasm/hammingScan';

export interface SearchHit {
  id: number;
  distance: number;
}

/** accept[id] !== 0 keeps an id (ids past the end are rejected), or a predicate. */
export type AcceptFilter = Uint8Array | ((id: number) => boolean);

const HEADER = 1024; // histogram lives below this
const PAGE = 65536;
const MAX_ID = 0xfffffffe;
const MASK64 = (1n << 64n) - 1n;
/** ids below this map to slots through a flat array; larger (sparse) ids through a Map */
const DENSE_LIMIT = 1 << 27;

const align8 = (n: number) => (n + 7) & ~7;

/**
 * Exact Hamming top-k over packed 64-bit codes keyed by integer id (0 … 2^32−2).
 *
 * Codes sit contiguously in WebAssembly memory (8 bytes each, plus a 4-byte id), so
 * a query is one linear scan (see wasm/hammingScan.ts). Removal moves the last entry
 * into the hole, keeping the array dense. Every method is synchronous, so in Node's
 * single thread a search can never observe a half-applied add or remove.
 */
export class HashIndex {
  private readonly wasm: ScanInstance;
  private n = 0;
  private cap = 0;
  private idsPtr = HEADER;
  private maskPtr = HEADER;
  private maskCap = 0;
  private candPtr = HEADER;
  private candCap = 4096;
  private codes!: BigUint64Array;
  private ids!: Uint32Array;
  private dense = new Int32Array(0); // slot + 1; 0 = absent
  private readonly sparse = new Map<number, number>();
  private maxId = -1;
  private acceptFn: ((id: number) => boolean) | undefined;
  /** set while a scan runs: an accept callback must not mutate the index under it */
  private scanning = false;

  constructor(initialCapacity = 1024) {
    this.wasm = instantiateScan((id) => (this.acceptFn!(id >>> 0) ? 1 : 0));
    this.layout(Math.max(16, initialCapacity), 0, this.candCap);
  }

  get size(): number {
    return this.n;
  }

  has(id: number): boolean {
    return this.slotOf(id) >= 0;
  }

  get(id: number): bigint | undefined {
    const s = this.slotOf(id);
    return s >= 0 ? this.codes[s] : undefined;
  }

  /** Inserts, or replaces the code of an id already present. */
  add(id: number, code: bigint): void {
    this.assertNotScanning();
    checkId(id);
    checkCode(code);
    const s = this.slotOf(id);
    if (s >= 0) {
      this.codes[s] = code;
      return;
    }
    if (this.n === this.cap) this.layout(Math.ceil(this.cap * 1.5), this.maskCap, this.candCap);
    const slot = this.n;
    this.codes[slot] = code;
    this.ids[slot] = id;
    this.setSlot(id, slot);
    this.n = slot + 1;
  }

  remove(id: number): boolean {
    this.assertNotScanning();
    const s = this.slotOf(id);
    if (s < 0) return false;
    const last = this.n - 1;
    if (s !== last) {
      this.codes[s] = this.codes[last];
      this.ids[s] = this.ids[last];
      this.setSlot(this.ids[s], s);
    }
    this.clearSlot(id);
    this.n = last;
    return true;
  }

  /** Grows storage once for an expected number of entries. */
  reserve(capacity: number): void {
    if (capacity > this.cap) this.layout(capacity, this.maskCap, this.candCap);
  }

  /** Replaces the whole content, e.g. at start-up from the database. A repeated id keeps its last code. */
  rebuild(entries: Iterable<readonly [number, bigint]>): void {
    this.clear();
    if (Array.isArray(entries)) this.reserve(entries.length);
    for (const [id, code] of entries) this.add(id, code);
  }

  /** rebuild() from parallel arrays, avoiding a tuple per entry at millions of rows. */
  rebuildPacked(ids: ArrayLike<number>, codes: BigUint64Array): void {
    if (ids.length !== codes.length) throw new RangeError('ids and codes differ in length');
    this.clear();
    this.reserve(ids.length);
    for (let i = 0; i < ids.length; i++) this.add(ids[i], codes[i]);
  }

  clear(): void {
    this.assertNotScanning();
    this.n = 0;
    this.dense.fill(0);
    this.sparse.clear();
    this.maxId = -1;
  }

  *entries(): IterableIterator<[number, bigint]> {
    for (let s = 0; s < this.n; s++) yield [this.ids[s], this.codes[s]];
  }

  /** The k nearest codes by Hamming distance, nearest first, ties by id ascending. */
  search(code: bigint, k: number, accept?: AcceptFilter): SearchHit[] {
    checkCode(code);
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
    if (k === 0 || this.n === 0) return [];
    if (this.scanning) throw new Error('HashIndex.search called from inside an accept callback');
    const g = this.wasm.globals;
    let mode = 0;
    if (accept instanceof Uint8Array) {
      mode = 1;
      const len = Math.min(accept.length, this.maxId + 1);
      if (len > this.maskCap) this.layout(this.cap, Math.ceil(len * 1.25), this.candCap);
      new Uint8Array(this.wasm.memory.buffer, this.maskPtr, len).set(accept.subarray(0, len));
      g.maskLen.value = len;
    } else if (typeof accept === 'function') {
      mode = 2;
      this.acceptFn = accept;
    }
    new Int32Array(this.wasm.memory.buffer, 0, HIST_BYTES / 4).fill(0);
    g.mode.value = mode;
    g.k.value = Math.min(k, this.n);
    g.thr.value = 64;
    g.c.value = 0;
    g.count.value = 0;
    this.scanning = true;
    try {
      let pos = 0;
      while ((pos = this.wasm.scan(code, pos, this.n)) < this.n) {
        // Buffer full of candidates still within the threshold (many ties): enlarge and resume.
        this.layout(this.cap, this.maskCap, this.candCap * 2);
      }
    } finally {
      this.acceptFn = undefined;
      this.scanning = false;
    }
    return this.collect(g.thr.value, g.count.value, k);
  }

  /**
   * The candidates the scan kept (distance ≤ the final k-th distance thr, plus stale ones above
   * it) → the k nearest, by (distance, id). Those strictly below thr are fewer than k and are all
   * taken; of the ties at thr only the smallest ids are needed. An archive repeats codes (the
   * seeded one draws them from a pool), so ties can number tens of thousands: selecting among
   * them is O(ties), where sorting them all cost more CPU than the scan itself at 1.9 M codes.
   */
  private collect(thr: number, count: number, k: number): SearchHit[] {
    const cand = new Uint32Array(this.wasm.memory.buffer, this.candPtr, count * 2);
    let below = 0, at = 0;
    for (let j = 0; j < count; j++) {
      const d = cand[2 * j + 1];
      if (d < thr) below++;
      else if (d === thr) at++;
    }
    // d·2^32 + id is exact in a double and sorts by (distance, id).
    const keys = new Float64Array(below);
    const ties = new Uint32Array(at);
    for (let j = 0, b = 0, t = 0; j < count; j++) {
      const d = cand[2 * j + 1];
      if (d < thr) keys[b++] = d * 4294967296 + this.ids[cand[2 * j]];
      else if (d === thr) ties[t++] = this.ids[cand[2 * j]];
    }
    keys.sort();
    const nearTies = smallestSorted(ties, Math.max(0, Math.min(k - below, at)));
    const out: SearchHit[] = new Array(Math.min(k, below + nearTies.length));
    for (let j = 0; j < out.length; j++) {
      if (j < below) {
        const d = Math.floor(keys[j] / 4294967296);
        out[j] = { id: keys[j] - d * 4294967296, distance: d };
      } else {
        out[j] = { id: nearTies[j - below], distance: thr };
      }
    }
    return out;
  }

  /** Places codes | ids | mask | candidates in wasm memory; ids move up when capacity grows. */
  private layout(cap: number, maskCap: number, candCap: number): void {
    const idsPtr = HEADER + cap * 8;
    const maskPtr = idsPtr + cap * 4;
    const candPtr = align8(maskPtr + maskCap);
    const total = candPtr + candCap * 8;
    const mem = this.wasm.memory;
    if (total > mem.buffer.byteLength) mem.grow(Math.ceil((total - mem.buffer.byteLength) / PAGE));
    if (idsPtr !== this.idsPtr && this.n > 0) {
      new Uint8Array(mem.buffer).copyWithin(idsPtr, this.idsPtr, this.idsPtr + this.n * 4);
    }
    this.cap = cap;
    this.idsPtr = idsPtr;
    this.maskPtr = maskPtr;
    this.maskCap = maskCap;
    this.candPtr = candPtr;
    this.candCap = candCap;
    // Growing memory detaches the old views.
    this.codes = new BigUint64Array(mem.buffer, HEADER, cap);
    this.ids = new Uint32Array(mem.buffer, idsPtr, cap);
    const g = this.wasm.globals;
    g.codesPtr.value = HEADER;
    g.idsPtr.value = idsPtr;
    g.maskPtr.value = maskPtr;
    g.candPtr.value = candPtr;
    g.candCap.value = candCap;
  }

  private assertNotScanning(): void {
    if (this.scanning) throw new Error('HashIndex modified from inside a search accept callback');
  }

  private slotOf(id: number): number {
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) return this.dense[id] - 1;
    if (id < DENSE_LIMIT) return -1;
    return this.sparse.get(id) ?? -1;
  }

  private setSlot(id: number, slot: number): void {
    if (id > this.maxId) this.maxId = id;
    if (id < DENSE_LIMIT) {
      if (id >= this.dense.length) {
        const grown = new Int32Array(Math.min(DENSE_LIMIT, Math.max(id + 1, Math.ceil(this.dense.length * 1.5), 1024)));
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[id] = slot + 1;
    } else {
      this.sparse.set(id, slot);
    }
  }

  private clearSlot(id: number): void {
    if (id < DENSE_LIMIT) this.dense[id] = 0;
    else this.sparse.delete(id);
  }
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new RangeError(`image id must be an integer in [0, ${MAX_ID}], got ${id}`);
}

function checkCode(code: bigint): void {
  if (typeof code !== 'bigint' || code < 0n || code > MASK64) throw new RangeError('code must be a bigint in [0, 2^64)');
}

/** The r smallest values of `a`, ascending (reorders `a`): a quickselect, then a sort of the r. */
export function smallestSorted(a: Uint32Array, r: number): Uint32Array {
  if (r <= 0) return a.subarray(0, 0);
  if (r * 8 >= a.length) return a.sort().subarray(0, r);
  let lo = 0, hi = a.length - 1;
  const target = r - 1;
  while (hi > lo) {
    // Median of three as the pivot: deterministic and safe on ids that arrive already sorted.
    const mid = (lo + hi) >>> 1;
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a.subarray(0, r).sort();
}
