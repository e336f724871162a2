// What the bytes in the staging area must be, for every reader of them (the workers, a repair):
// kept apart from staging.ts so a worker thread loads no more than these few lines.

/** A repaired copy is named after its original and its own sha256 (StagingArea.stageRepair). */
export const REPAIRED = /\.repaired-([0-9a-f]{64})$/;

/**
 * The sha256 the bytes at `stagingPath` must have: the received bytes' (`received`, the file's
 * recorded sha256), or, for a repaired copy, the copy's own, which names it.
 */
export function stagedSha256(stagingPath: string, received: string): string {
  return REPAIRED.exec(stagingPath)?.[1] ?? received;
}

export const STAGED_BYTES_CHANGED = 'the staged bytes are not the ones received (their sha256 differs): upload the file again';
