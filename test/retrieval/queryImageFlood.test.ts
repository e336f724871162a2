// Regression: the query images uploaded for similarImages (POST /query-images) were bounded by
// 10,000 codes for everyone together, oldest out first, so one caller's flood of tiny uploads
// pushed every other caller's query image out long before its ten minutes (their searches then
// answered "expired"). Each caller now holds at most MAX_PER_CALLER live uploads; past it their
// own oldest goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryImages } from '../../src/similarity/QueryImages.js';

describe('one caller flooding query-image uploads does not push out anyone else\'s', () => {
  it('alice\'s upload outlives 10,000 of mallory\'s; mallory keeps only his newest', () => {
    const uploads = new QueryImages();
    const now = Date.now();
    const alice = uploads.put(1n, 'alice', now);
    const anonymous = uploads.put(2n, null, now, 'anonymous@192.0.2.1');
    const mallory: string[] = [];
    for (let i = 0; i < 10_000; i++) mallory.push(uploads.put(BigInt(1000 + i), 'mallory', now + 1).id);
    assert.equal(uploads.get(alice.id, 'alice', now + 2), 1n, 'alice\'s query image is still there');
    assert.equal(uploads.get(anonymous.id, null, now + 2), 2n, 'so is an anonymous caller\'s');
    const kept = mallory.filter((id) => uploads.get(id, 'mallory', now + 2) != null);
    assert.equal(kept.length, QueryImages.MAX_PER_CALLER);
    assert.deepEqual(kept, mallory.slice(-QueryImages.MAX_PER_CALLER), 'his newest are the ones kept');
  });

  it('anonymous callers are counted apart by address, and uploads still expire after ten minutes', () => {
    const uploads = new QueryImages();
    const now = Date.now();
    const first = uploads.put(7n, null, now, 'anonymous@192.0.2.1');
    for (let i = 0; i < 500; i++) uploads.put(BigInt(i), null, now, 'anonymous@198.51.100.9');
    assert.equal(uploads.get(first.id, null, now + 1), 7n);
    assert.equal(uploads.get(first.id, 'someone', now + 1), null, 'an upload is its owner\'s only');
    assert.equal(uploads.get(first.id, null, now + QueryImages.TTL_MS), null);
  });
});
