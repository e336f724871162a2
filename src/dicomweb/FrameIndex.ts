import { framesOf } from './dicomFile.js';
import type { InstanceRow, InstanceStore } from './InstanceStore.js';

/** Where each frame's bytes (as stored) lie in the file; null for a frame that is not one contiguous run (fragments joined). */
export interface FrameIndex {
  transferSyntaxUid: string;
  numberOfFrames: number;
  ranges: ({ start: number; length: number } | null)[];
}

/** Below this a compressed frame is not looked up by its bytes (a short run could occur earlier in the file). */
const MIN_SEARCHED = 64;
/** Frame ranges kept in all (a 300-instance series of single frames is 300). */
const MAX_RANGES = 1_000_000;

/** The frame index of a whole stored file (parsed once: native frames are views of it; a compressed frame is found by its bytes). */
export function indexFrames(file: Buffer): FrameIndex {
  const frames = framesOf(file);
  const ranges: FrameIndex['ranges'] = [];
  for (let i = 0; i < frames.numberOfFrames; i++) {
    let bytes: Uint8Array;
    try { bytes = frames.frame(i); } catch { ranges.push(null); continue; }
    if (bytes.buffer === file.buffer) {
      ranges.push({ start: bytes.byteOffset - file.byteOffset, length: bytes.byteLength });
    } else if (bytes.byteLength >= MIN_SEARCHED) {
      const at = file.indexOf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ranges.push(at >= 0 ? { start: at, length: bytes.byteLength } : null);
    } else {
      ranges.push(null);
    }
  }
  return { transferSyntaxUid: frames.transferSyntaxUid, numberOfFrames: frames.numberOfFrames, ranges };
}

/**
 * Frames without parsing the file for each request: the first request for an instance reads
 * and parses it whole (verified) and keeps where its frames lie, keyed by the file's SHA-256
 * (stored files never change); later ones read a verified byte range. A frame the index cannot
 * place (fragments joined, bit-packed) is cut from the parsed file as before.
 */
export class FrameIndexCache {
  private readonly entries = new Map<string, FrameIndex>();
  private ranges = 0;

  async frames(store: InstanceStore, row: InstanceRow, want: (index: FrameIndex) => number[]): Promise<{ index: FrameIndex; frames: Uint8Array[] }> {
    const known = this.entries.get(row.sha256);
    if (known) {
      this.entries.delete(row.sha256);
      this.entries.set(row.sha256, known);
      const list = want(known);
      if (list.every((i) => known.ranges[i])) {
        // One range at a time: all at once opened the file once per frame asked for, a hundred and
        // fifty descriptors held by one request (`frames/1,2,…,155`), and as many again per request alongside.
        const frames: Uint8Array[] = [];
        for (const i of list) frames.push(await store.range(row, known.ranges[i]!.start, known.ranges[i]!.length));
        return { index: known, frames };
      }
    }
    const file = await store.read(row);
    const index = known ?? this.remember(row.sha256, indexFrames(file));
    const list = want(index);
    const parsed = list.every((i) => index.ranges[i]) ? null : framesOf(file);
    return { index, frames: list.map((i) => (index.ranges[i] ? file.subarray(index.ranges[i]!.start, index.ranges[i]!.start + index.ranges[i]!.length) : parsed!.frame(i))) };
  }

  private remember(sha: string, index: FrameIndex): FrameIndex {
    this.entries.set(sha, index);
    this.ranges += index.ranges.length + 1;
    for (const [k, v] of this.entries) {
      if (this.ranges <= MAX_RANGES) break;
      this.entries.delete(k);
      this.ranges -= v.ranges.length + 1;
    }
    return index;
  }
}
