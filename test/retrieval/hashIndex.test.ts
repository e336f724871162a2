import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashIndex, smallestSorted, type AcceptFilter, type SearchHit } from '../../src/retrieval/HashIndex';
import { hamming } from '../../src/retrieval/code';
import { noDatabase } from '../support/once.js';

noDatabase('the in-memory Hamming index');

/** xorshift so failures reproduce */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function randomCode(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

function bruteForce(ref: Map<number, bigint>, q: bigint, k: number, accept?: AcceptFilter): SearchHit[] {
  const keep = (id: number) => (accept === undefined ? true : typeof accept === 'function' ? accept(id) : id < accept.length && accept[id] !== 0);
  return [...ref]
    .filter(([id]) => keep(id))
    .map(([id, code]) => ({ id, distance: hamming(q, code) }))
    .sort((a, b) => a.distance - b.distance || a.id - b.id)
    .slice(0, k);
}

test('search equals brute force through adds, overwrites, removals and re-adds, with filters', () => {
  const r = rng(7);
  const index = new HashIndex(8); // tiny initial capacity so growth and relayout are exercised
  const ref = new Map<number, bigint>();
  // A small pool of base codes plus few-bit perturbations gives many equal distances.
  const pool = Array.from({ length: 12 }, () => randomCode(r));
  const code = () => pool[Math.floor(r() * pool.length)] ^ (r() < 0.5 ? 0n : 1n << BigInt(Math.floor(r() * 64)));
  let checks = 0;
  for (let round = 0; round < 40; round++) {
    for (let j = 0; j < 150; j++) {
      const id = Math.floor(r() * 3000);
      const c = code();
      index.add(id, c);
      ref.set(id, c);
    }
    for (let j = 0; j < 60; j++) {
      const id = Math.floor(r() * 3000);
      assert.equal(index.remove(id), ref.delete(id));
    }
    assert.equal(index.size, ref.size);
    const mask = new Uint8Array(2000).map(() => (r() < 0.3 ? 1 : 0));
    const pred = (id: number) => id % 3 !== 0;
    for (const k of [1, 7, 30, ref.size + 5]) {
      const q = r() < 0.5 ? code() : randomCode(r);
      for (const accept of [undefined, mask, pred]) {
        assert.deepEqual(index.search(q, k, accept), bruteForce(ref, q, k, accept), `round ${round} k ${k}`);
        checks++;
      }
    }
  }
  for (const [id, c] of ref) {
    assert.ok(index.has(id));
    assert.equal(index.get(id), c);
  }
  assert.ok(checks > 400);
});

test('heavy ties overflow the candidate buffer and still come back ordered by id', () => {
  const index = new HashIndex();
  const ref = new Map<number, bigint>();
  // 20,000 identical codes (ids in scrambled order) force the candidate buffer to grow mid-scan.
  for (let j = 0; j < 20000; j++) {
    const id = (j * 7919) % 20011;
    index.add(id, 0xdeadbeefn);
    ref.set(id, 0xdeadbeefn);
  }
  index.add(50000, 0xdeadbeeen);
  ref.set(50000, 0xdeadbeeen);
  for (const k of [1, 30, 5000, 25000]) {
    assert.deepEqual(index.search(0xdeadbeefn, k), bruteForce(ref, 0xdeadbeefn, k));
  }
  assert.deepEqual(index.search(0xdeadbeeen, 2), [
    { id: 50000, distance: 0 },
    { id: 0, distance: 1 },
  ]);
});

test('ties at the k-th distance are selected, not sorted: codes from a small pool (as the seeded archive draws them) agree with brute force', () => {
  const r = rng(17);
  const pool = Array.from({ length: 40 }, () => randomCode(r));
  const index = new HashIndex();
  const ref = new Map<number, bigint>();
  for (let id = 0; id < 30000; id++) {
    const code = pool[Math.floor(r() * pool.length)];
    // Scrambled insertion order, so slot order is not id order.
    const sid = (id * 7919) % 30011;
    index.add(sid, code);
    ref.set(sid, code);
  }
  for (let i = 0; i < 20; i++) {
    const q = i % 2 ? pool[i] : randomCode(r);
    for (const k of [1, 120, 999]) assert.deepEqual(index.search(q, k), bruteForce(ref, q, k));
  }
});

test('smallestSorted returns the r smallest ascending, duplicates included', () => {
  const r = rng(5);
  for (const [n, r_, span] of [[0, 0, 1], [10, 3, 5], [1000, 7, 50], [5000, 120, 1e9], [5000, 4999, 3], [64, 64, 10]] as const) {
    const a = Uint32Array.from({ length: n }, () => Math.floor(r() * span));
    const expected = [...a].sort((x, y) => x - y).slice(0, r_);
    assert.deepEqual([...smallestSorted(a, r_)], expected, `n=${n} r=${r_}`);
  }
});

test('random codes at scale agree with brute force, including large and sparse ids', () => {
  const r = rng(99);
  const entries: [number, bigint][] = [];
  for (let j = 0; j < 30000; j++) entries.push([j < 100 ? 2 ** 31 + j * 977 : j, randomCode(r)]);
  const index = new HashIndex();
  index.rebuild(entries);
  const ref = new Map(entries);
  assert.equal(index.size, 30000);
  for (let t = 0; t < 20; t++) {
    const q = t % 2 ? entries[Math.floor(r() * entries.length)][1] : randomCode(r);
    assert.deepEqual(index.search(q, 30), bruteForce(ref, q, 30));
  }
  assert.ok(index.has(2 ** 31));
  assert.ok(index.remove(2 ** 31));
  assert.ok(!index.has(2 ** 31));
  ref.delete(2 ** 31);
  assert.deepEqual(index.search(entries[0][1], 30), bruteForce(ref, entries[0][1], 30));
});

test('rebuild replaces content; edge cases', () => {
  const index = new HashIndex();
  index.add(1, 1n);
  index.rebuild([
    [5, 0n],
    [6, (1n << 64n) - 1n],
    [5, 3n],
  ]);
  assert.equal(index.size, 2);
  assert.ok(!index.has(1));
  assert.deepEqual(index.search(0n, 10), [
    { id: 5, distance: 2 },
    { id: 6, distance: 64 },
  ]);
  assert.deepEqual(index.search(0n, 0), []);
  assert.deepEqual(new HashIndex().search(0n, 30), []);
  assert.deepEqual(index.search(0n, 10, new Uint8Array(0)), []);
  assert.equal(index.remove(5), true);
  assert.equal(index.remove(5), false);
  assert.throws(() => index.add(-1, 0n), RangeError);
  assert.throws(() => index.add(1.5, 0n), RangeError);
  assert.throws(() => index.add(1, 1n << 64n), RangeError);
  assert.throws(() => index.search(0n, -1), RangeError);
  // A callback that mutates the index mid-scan would invalidate slots under the scan.
  assert.throws(() => index.search(0n, 1, () => (index.add(99, 0n), true)), /inside a search/);
  assert.equal(index.has(99), false);
  assert.deepEqual(index.search(0n, 1), [{ id: 6, distance: 64 }]);
});

test('slot order by id survives late adds, removals, compaction and growth: the scan drops ties by slot order and stops at k exact matches', () => {
  const r = rng(23);
  // Three codes only: every search is decided by ties, most of them at distance 0 (the early stop).
  const pool = [0x0123456789abcdefn, 0x0123456789abcdeen, 0xfedcba9876543210n];
  const index = new HashIndex(16);
  const ref = new Map<number, bigint>();
  const add = (id: number) => { const c = pool[Math.floor(r() * pool.length)]; index.add(id, c); ref.set(id, c); };
  const check = (stage: string) => {
    assert.equal(index.size, ref.size, stage);
    for (const q of [...pool, pool[0] ^ 0xffn]) {
      for (const k of [1, 5, 64, ref.size + 1]) {
        for (const accept of [undefined, (id: number) => id % 4 !== 1]) {
          assert.deepEqual(index.search(q, k, accept), bruteForce(ref, q, k, accept), `${stage}, k ${k}`);
        }
      }
    }
  };
  for (let id = 1000; id < 3000; id++) add(id);
  check('in order');
  // A few removals in the middle stay as dead slots (under an eighth), then growth moves the bitmap.
  for (const id of [1001, 1500, 2222, 2999, 1000]) { assert.ok(index.remove(id)); ref.delete(id); }
  check('dead slots');
  for (let id = 3000; id < 9000; id++) add(id);
  check('grown with dead slots');
  // Late adds: slightly late ones are shifted into place, far ones wait for the next search's merge.
  for (const id of [8990, 8500, 500, 1500, 10, 8999, 2222]) add(id);
  check('late adds');
  // Enough removals to compact, then re-adds of removed ids and descending adds.
  for (let id = 1000; id < 5000; id += 2) { assert.equal(index.remove(id), ref.delete(id)); }
  check('compacted');
  for (let id = 4999; id >= 900; id -= 3) add(id);
  check('descending re-adds');
  // Removing the last slots drops dead ones left before them.
  for (let id = 8000; id < 9000; id++) { if (id % 3) { index.remove(id); ref.delete(id); } }
  for (let id = 8999; id >= 8000; id--) { index.remove(id); ref.delete(id); }
  check('tail removed');
  assert.deepEqual([...index.entries()].map(([id]) => id).sort((a, b) => a - b), [...ref.keys()].sort((a, b) => a - b));
});
