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

/** An out-of-order add shifts at most this many entries to keep id order; a longer shift waits for the next search. */
const SHIFT_LIMIT = 4096;

const align8 = (n: number) => (n + 7) & ~7;

/**
 * Exact Hamming top-k over packed 64-bit codes keyed by integer id (0 … 2^32−2).
 *
 * Codes sit contiguously in WebAssembly memory (8 bytes each, plus a 4-byte id), so
 * a query is one linear scan (see wasm/hammingScan.ts). Slots are kept in ascending id
 * order, which lets the scan drop ties at the k-th distance as they come (the first k
 * seen have the smallest ids) instead of keeping every repeat of a code: ids arrive in
 * order (auto-increment keys, the catalog reads them by id), a slightly late one is
 * shifted into place, and anything else is appended and merged into order by the next
 * search. Removal marks the slot dead in a bitmap the scan checks; the dead are
 * compacted away (order kept) once they are an eighth of the slots. Every method is
 * synchronous, so in Node's single thread a search can never observe a half-applied
 * add or remove.
 */
export class HashIndex {
  private readonly wasm: ScanInstance;
  /** Slots in use, dead ones included. */
  private n = 0;
  private cap = 0;
  /** Dead slots among the n (removed, bit set in the dead bitmap). */
  private holes = 0;
  /** Slots [0, sortedLen) are in ascending id order (dead ones keep their id); later ones await the next search. */
  private sortedLen = 0;
  private idsPtr = HEADER;
  private deadPtr = HEADER;
  private maskPtr = HEADER;
  private maskCap = 0;
  private candPtr = HEADER;
  private candCap = 4096;
  private codes!: BigUint64Array;
  private ids!: Uint32Array;
  private dead!: Uint8Array;
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
    return this.n - this.holes;
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
    if (this.n === this.cap) {
      if (this.holes * 4 >= this.n) this.compact();
      else this.layout(Math.ceil(this.cap * 1.5), this.maskCap, this.candCap);
    }
    let slot = this.n;
    let ordered = this.sortedLen === this.n;
    if (ordered && slot > 0 && id < this.ids[slot - 1]) {
      // Late by a little (e.g. two ingest transactions committed out of order): shift it into place.
      const pos = this.holes === 0 ? this.insertionPoint(id) : -1;
      if (pos < 0) {
        ordered = false; // the next search merges it in
      } else {
        this.codes.copyWithin(pos + 1, pos, slot);
        this.ids.copyWithin(pos + 1, pos, slot);
        for (let j = pos + 1; j <= slot; j++) this.setSlot(this.ids[j], j);
        slot = pos;
      }
    }
    this.codes[slot] = code;
    this.ids[slot] = id;
    this.setSlot(id, slot);
    this.n++;
    if (ordered) this.sortedLen = this.n;
  }

  /** Where id belongs among the last SHIFT_LIMIT slots (all live, in order), or −1 when further back. */
  private insertionPoint(id: number): number {
    let lo = Math.max(0, this.n - SHIFT_LIMIT), hi = this.n;
    if (lo > 0 && this.ids[lo - 1] > id) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  remove(id: number): boolean {
    this.assertNotScanning();
    const s = this.slotOf(id);
    if (s < 0) return false;
    this.clearSlot(id);
    if (s === this.n - 1) {
      this.n--;
      // Dead slots now at the end go too.
      while (this.n > 0 && this.isDead(this.n - 1)) {
        this.n--;
        this.holes--;
        this.dead[this.n >>> 3] &= ~(1 << (this.n & 7));
      }
      if (this.sortedLen > this.n) this.sortedLen = this.n;
    } else {
      this.dead[s >>> 3] |= 1 << (s & 7);
      this.holes++;
      if (this.holes * 8 > this.n) this.compact();
    }
    return true;
  }

  private isDead(slot: number): boolean {
    return (this.dead[slot >>> 3] & (1 << (slot & 7))) !== 0;
  }

  /** Drops the dead slots, keeping order (and which slots are in order). */
  private compact(): void {
    if (!this.holes) return;
    const c32 = new Uint32Array(this.wasm.memory.buffer, HEADER, this.cap * 2);
    let w = 0, sorted = 0;
    for (let r = 0; r < this.n; r++) {
      if (this.isDead(r)) continue;
      if (w !== r) {
        c32[2 * w] = c32[2 * r];
        c32[2 * w + 1] = c32[2 * r + 1];
        this.ids[w] = this.ids[r];
        this.setSlot(this.ids[w], w);
      }
      w++;
      if (r < this.sortedLen) sorted = w;
    }
    this.dead.fill(0, 0, (this.n + 7) >>> 3);
    this.n = w;
    this.holes = 0;
    this.sortedLen = sorted;
  }

  /**
   * Merges the slots appended out of order into id order: the live ids are unique, so the
   * tail's ids are sorted as numbers and each finds its code through its slot; then one
   * backward merge with the ordered prefix. O(n) moves once, however many adds came late.
   */
  private restoreOrder(): void {
    this.compact();
    const start = this.sortedLen, m = this.n - start;
    if (m <= 0) return;
    const c32 = new Uint32Array(this.wasm.memory.buffer, HEADER, this.cap * 2);
    const tailIds = this.ids.slice(start, this.n).sort();
    const tailCodes = new Uint32Array(2 * m);
    for (let j = 0; j < m; j++) {
      const s = this.slotOf(tailIds[j]);
      tailCodes[2 * j] = c32[2 * s];
      tailCodes[2 * j + 1] = c32[2 * s + 1];
    }
    let i = start - 1, j = m - 1, w = this.n - 1;
    for (; j >= 0; w--) {
      if (i >= 0 && this.ids[i] > tailIds[j]) {
        c32[2 * w] = c32[2 * i];
        c32[2 * w + 1] = c32[2 * i + 1];
        this.ids[w] = this.ids[i];
        i--;
      } else {
        c32[2 * w] = tailCodes[2 * j];
        c32[2 * w + 1] = tailCodes[2 * j + 1];
        this.ids[w] = tailIds[j];
        j--;
      }
      this.setSlot(this.ids[w], w);
    }
    this.sortedLen = this.n;
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
    this.dead.fill(0, 0, (this.n + 7) >>> 3);
    this.n = 0;
    this.holes = 0;
    this.sortedLen = 0;
    this.dense.fill(0);
    this.sparse.clear();
    this.maxId = -1;
  }

  *entries(): IterableIterator<[number, bigint]> {
    for (let s = 0; s < this.n; s++) if (!this.isDead(s)) yield [this.ids[s], this.codes[s]];
  }

  /** The k nearest codes by Hamming distance, nearest first, ties by id ascending. */
  search(code: bigint, k: number, accept?: AcceptFilter): SearchHit[] {
    checkCode(code);
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
    if (k === 0 || this.size === 0) return [];
    if (this.scanning) throw new Error('HashIndex.search called from inside an accept callback');
    if (this.sortedLen < this.n) this.restoreOrder();
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
    g.k.value = Math.min(k, this.size);
    g.thr.value = 64;
    g.lim.value = 64;
    g.holes.value = this.holes;
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

  /** Places codes | ids | dead bitmap | mask | candidates in wasm memory; ids and the bitmap move up when capacity grows. */
  private layout(cap: number, maskCap: number, candCap: number): void {
    const idsPtr = HEADER + cap * 8;
    const deadPtr = idsPtr + cap * 4;
    const maskPtr = deadPtr + align8((cap + 7) >>> 3);
    const candPtr = align8(maskPtr + maskCap);
    const total = candPtr + candCap * 8;
    const mem = this.wasm.memory;
    if (total > mem.buffer.byteLength) mem.grow(Math.ceil((total - mem.buffer.byteLength) / PAGE));
    const bytes = new Uint8Array(mem.buffer);
    if (deadPtr !== this.deadPtr) {
      // The bitmap first: it lies above the ids, and both move up (the new bitmap lies above the old ids).
      const used = (this.n + 7) >>> 3;
      if (used) bytes.copyWithin(deadPtr, this.deadPtr, this.deadPtr + used);
      bytes.fill(0, deadPtr + used, maskPtr);
    }
    if (idsPtr !== this.idsPtr && this.n > 0) {
      bytes.copyWithin(idsPtr, this.idsPtr, this.idsPtr + this.n * 4);
    }
    this.cap = cap;
    this.idsPtr = idsPtr;
    this.deadPtr = deadPtr;
    this.maskPtr = maskPtr;
    this.maskCap = maskCap;
    this.candPtr = candPtr;
    this.candCap = candCap;
    // Growing memory detaches the old views.
    this.codes = new BigUint64Array(mem.buffer, HEADER, cap);
    this.ids = new Uint32Array(mem.buffer, idsPtr, cap);
    this.dead = new Uint8Array(mem.buffer, deadPtr, (cap + 7) >>> 3);
    const g = this.wasm.globals;
    g.codesPtr.value = HEADER;
    g.idsPtr.value = idsPtr;
    g.deadPtr.value = deadPtr;
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
