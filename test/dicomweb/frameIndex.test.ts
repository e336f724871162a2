import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameIndexCache } from '../../src/dicomweb/FrameIndex.js';
import type { InstanceRow, InstanceStore } from '../../src/dicomweb/InstanceStore.js';
import { buildImage } from '../support/dicom.js';

describe('WADO-RS frames through the frame index', () => {
  it('a request for many frames holds one stored file open at a time, not one per frame (it held 150 at once)', async () => {
    const frames = 150, size = 8;
    const pixels = new Uint8Array(frames * size * size * 2).map((_, i) => i % 251);
    const file = buildImage({ rows: size, columns: size, frames, pixels, sop: '1.2.3.4', study: '1.2.3', series: '1.2.3.5' });
    let open = 0, most = 0, ranges = 0;
    const store = {
      read: async () => file,
      range: async (_row: InstanceRow, start: number, length: number) => {
        open++; ranges++; most = Math.max(most, open);
        await new Promise((r) => setTimeout(r, 1));
        open--;
        return file.subarray(start, start + length);
      },
    } as unknown as InstanceStore;
    const row = { sha256: 'a'.repeat(64) } as InstanceRow;
    const cache = new FrameIndexCache();
    const all = Array.from({ length: frames }, (_, i) => i);
    const first = await cache.frames(store, row, () => all);
    assert.equal(ranges, 0, 'the first request parses the file it read');
    const again = await cache.frames(store, row, () => all);
    assert.equal(ranges, frames, 'later ones read each frame as a verified byte range');
    assert.equal(most, 1, 'one range (one open file) at a time');
    for (const i of all) assert.ok(Buffer.from(again.frames[i]!).equals(Buffer.from(first.frames[i]!)), `frame ${i + 1} is the same bytes`);
    assert.equal(again.frames[1]!.byteLength, size * size * 2);
  });
});
