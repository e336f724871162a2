// Screening's per-file half, started the moment a file is staged. An upload spends much of its
// time waiting on the disk (the staged copy's fsync), and on a machine with CPU to spare the
// worker pool is idle then: QC's per-file checks (parse, header findings, the pixel hash that
// duplicates are found by) run at that point, on the same pool and with the same function the
// screen stage calls, and the screen stage takes the result instead of checking the file when
// the run starts. The work is the same, done earlier. Cross-file checks still run over the
// whole submission when the pipeline runs, so every verdict is the one screening without
// this would give.
//
// A result stands only for the staged file it was made from: the file's device, inode, size
// and modification time are recorded when the check starts and compared when it is used; a
// file replaced, resized or removed since is checked again (or reported missing) as before.
// (The archive never rewrites a staged file in place: uploads and repairs make new files.
// Whatever the stamp cannot see, de-identification reads and parses the bytes again anyway.)
// Results live in this process only: a restart, or a pipeline in another process, checks afresh.
import fs from 'node:fs';
import type { FileCheckResult } from '../qc/checks.js';

/** A check result; null when the staged bytes were gone (as CpuPool.check answers). */
type Check = (absolutePath: string) => Promise<FileCheckResult | null>;

/**
 * Results kept at most (about a kilobyte each). Beyond, no more checks start: screening takes
 * files oldest first, so the results kept are the ones it needs first, and the rest is checked
 * then, as without a prescreen.
 */
const MAX_ENTRIES = 20_000;

function stampOf(file: string): string | null {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return null;
  }
}

export class Prescreen {
  private readonly entries = new Map<string, { stamp: string; result: Promise<FileCheckResult | null | undefined> }>();

  constructor(private readonly check: Check, private readonly max = MAX_ENTRIES) {}

  /** Starts checking staged files (absolute paths) in the background. */
  start(files: readonly string[]): void {
    for (const file of files) {
      const stamp = stampOf(file);
      if (!stamp) continue;
      if (this.entries.size >= this.max) return;
      // A check that fails here (the pool closing) is made again by the screen stage.
      this.entries.set(file, { stamp, result: this.check(file).catch(() => undefined) });
    }
  }

  /**
   * The result for a staged file, once, if one was started and the file is still the one it
   * was made from; undefined otherwise (the caller checks the file itself).
   */
  async take(file: string): Promise<FileCheckResult | null | undefined> {
    const entry = this.entries.get(file);
    if (!entry) return undefined;
    this.entries.delete(file);
    const result = await entry.result;
    if (result === undefined || result === null) return undefined;
    return stampOf(file) === entry.stamp ? result : undefined;
  }

  /** Settles once every check started so far has (tests, and whoever must know the pool is quiet). */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.result));
  }

  /** How many results wait to be taken (tests). */
  get size(): number {
    return this.entries.size;
  }
}
