import type { FrameIndex } from './dicomFile.js';
import { frameIndexOnWorker, holdingFile, storedFramesOnWorker } from './imagingPool.js';
import type { InstanceRow, InstanceStore } from './InstanceStore.js';


/** Frame ranges kept in all (a 300-instance series of single frames is 300). */
const MAX_RANGES = 1_000_000;

/**
 * Frames without parsing the file for each request: the first request for an instance reads
 * it whole (verified), has it parsed on an imaging worker and keeps where its frames lie, keyed
 * by the file's SHA-256 (stored files never change); later ones read a verified byte range. A
 * frame the index cannot place (fragments joined, bit-packed) is cut from the file parsed on a
 * worker. Parsing goes through dcmjs, whose cost grows with the header (a file of 20,000
 * sequence items: 0.35 s), so it never runs on the thread that answers every other request.
 */
export class FrameIndexCache {
  private readonly entries = new Map<string, FrameIndex>();
  private ranges = 0;

  /** Indexes being made, by file: a request for frames of an instance being indexed waits for that index. */
  private readonly building = new Map<string, Promise<FrameIndex | null>>();

  async frames(store: InstanceStore, row: InstanceRow, want: (index: FrameIndex) => number[]): Promise<{ index: FrameIndex; frames: Uint8Array[] }> {
    const sha = row.sha256;
    // A viewer asks for many frames of a new instance at once: each read the whole file (a 500 MB
    // cine, six times over) to make the same index. Now one request reads it; the others wait
    // for its index and read their frames as byte ranges.
    const cached = this.lookup(sha);
    // Decided before any await, so of a burst exactly one request makes the index.
    let publish = null as ((index: FrameIndex | null) => void) | null;
    if (!cached && !this.building.has(sha)) this.building.set(sha, new Promise((resolve) => { publish = resolve; }));
    const known = cached ?? (publish ? null : await this.building.get(sha)) ?? null;
    if (known) {
      const list = want(known);
      if (list.every((i) => known.ranges[i])) {
        // One range at a time: all at once opened the file once per frame asked for, a hundred and
        // fifty descriptors held by one request (`frames/1,2,…,155`), and as many again per request alongside.
        const frames: Uint8Array[] = [];
        for (const i of list) frames.push(await store.range(row, known.ranges[i]!.start, known.ranges[i]!.length));
        return { index: known, frames };
      }
    }
    try {
      // The whole file is held for the workers: against the pool's byte budget (imagingPool.ts).
      return await holdingFile(row.size, async () => {
        const file = await store.read(row);
        const index = known ?? this.remember(sha, await frameIndexOnWorker(file));
        publish?.(index);
        const list = want(index);
        const unplaced = list.filter((i) => !index.ranges[i]);
        const cut = unplaced.length ? await storedFramesOnWorker(file, unplaced) : [];
        return { index, frames: list.map((i) => (index.ranges[i] ? file.subarray(index.ranges[i]!.start, index.ranges[i]!.start + index.ranges[i]!.length) : cut[unplaced.indexOf(i)]!)) };
      });
    } finally {
      if (publish) {
        // Refused or failed before its index was made: those waiting make it themselves.
        publish(null);
        this.building.delete(sha);
      }
    }
  }

  /** A kept index, marked as the most recently used. */
  private lookup(sha: string): FrameIndex | undefined {
    const known = this.entries.get(sha);
    if (known) {
      this.entries.delete(sha);
      this.entries.set(sha, known);
    }
    return known;
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
