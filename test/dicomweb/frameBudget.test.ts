// Frames of stored files read whole for the imaging workers are bounded by bytes, not only by
// the number of queued tasks: each task held its whole file, so 64 requests for one frame of a
// 500 MB multi-frame instance held 64 copies of it. And a burst of requests for frames of an
// instance not yet indexed reads its file once, not once per request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameIndexCache } from '../../src/dicomweb/FrameIndex.js';
import { holdingFile, setMaxHeldBytes } from '../../src/dicomweb/imagingPool.js';
import type { InstanceRow, InstanceStore } from '../../src/dicomweb/InstanceStore.js';
import { buildImage } from '../support/dicom.js';
import { noDatabase } from '../support/once.js';

noDatabase('the frame index cache and the imaging pool, over an in-memory store');

const frames = 4, size = 8;
const file = buildImage({ rows: size, columns: size, frames, pixels: new Uint8Array(frames * size * size * 2).map((_, i) => i % 251), sop: '1.2.3.4', study: '1.2.3', series: '1.2.3.5' });

/** A store whose whole-file reads are counted and wait for `open()`. */
function gatedStore() {
  let reads = 0, ranges = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  const store = {
    read: async () => { reads++; await gate; return file; },
    range: async (_row: InstanceRow, start: number, length: number) => { ranges++; return file.subarray(start, start + length); },
  } as unknown as InstanceStore;
  return { store, open, counts: () => ({ reads, ranges }) };
}

describe('WADO-RS frames: whole files held for the workers are bounded', () => {
  it('a request whose file would pass the held-bytes budget is 503 before its file is read; one file alone always fits', async () => {
    const previous = setMaxHeldBytes(file.length * 2);
    try {
      const { store, open, counts } = gatedStore();
      const cache = new FrameIndexCache();
      const row = (n: number) => ({ sha256: String(n).repeat(64).slice(0, 64), size: file.length }) as InstanceRow;
      const first = cache.frames(store, row(1), () => [0]);
      const second = cache.frames(store, row(2), () => [1]);
      // Two files held (the budget); a third instance's file does not fit while they are.
      await assert.rejects(cache.frames(store, row(3), () => [2]), (err: any) => err.extensions?.code === 'SERVICE_UNAVAILABLE');
      assert.equal(counts().reads, 2, 'the refused request read nothing');
      open();
      assert.equal((await first).frames[0]!.byteLength, size * size * 2);
      await second;
      assert.equal((await cache.frames(store, row(3), () => [2])).frames.length, 1, 'admitted once the others are done');
      // A file larger than the whole budget is admitted when nothing else is held.
      setMaxHeldBytes(1);
      assert.equal((await cache.frames(store, row(4), () => [3])).frames.length, 1);
      assert.equal(await holdingFile(10, async () => 'held'), 'held');
    } finally {
      setMaxHeldBytes(previous);
    }
  });

  it('concurrent requests for frames of an instance not yet indexed read its file once; the rest are byte ranges', async () => {
    const { store, open, counts } = gatedStore();
    const cache = new FrameIndexCache();
    const row = { sha256: 'f'.repeat(64), size: file.length } as InstanceRow;
    const burst = Array.from({ length: frames }, (_, i) => cache.frames(store, row, () => [i]));
    open();
    const answers = await Promise.all(burst);
    assert.deepEqual(counts(), { reads: 1, ranges: frames - 1 });
    for (const [i, a] of answers.entries()) {
      assert.ok(Buffer.from(a.frames[0]!).equals(file.subarray(file.length - (frames - i) * size * size * 2, file.length - (frames - i - 1) * size * size * 2)), `frame ${i + 1}`);
    }
  });
});
