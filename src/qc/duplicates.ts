import { finding, QcReason, type QcFinding } from './reasons.js';

export interface DuplicateInput<K> {
  key: K;
  sopInstanceUid: string | null;
  /** SHA-256 of the Pixel Data value (FileFacts.pixelData.sha256); null for objects without pixels. */
  pixelSha256: string | null;
}

export interface Duplicate<K> extends QcFinding {
  key: K;
  /** The kept file this one duplicates. */
  of: K;
}

export interface DuplicateReport<K> {
  kept: K[];
  duplicates: Duplicate<K>[];
}

/**
 * Keeps the first received of each set of duplicates (same SOPInstanceUID, or same pixel
 * data under a different UID) and reports the rest. `files` must be in received order.
 * Only kept files claim a UID or pixel hash: a duplicate never makes a later file a
 * duplicate of something that is not archived.
 */
export function findDuplicates<K>(files: DuplicateInput<K>[]): DuplicateReport<K> {
  const byUid = new Map<string, K>();
  const byPixels = new Map<string, K>();
  const kept: K[] = [];
  const duplicates: Duplicate<K>[] = [];
  for (const f of files) {
    const uidTwin = f.sopInstanceUid ? byUid.get(f.sopInstanceUid) : undefined;
    if (uidTwin !== undefined) {
      duplicates.push({ key: f.key, of: uidTwin, ...finding(QcReason.DUPLICATE_UID, 'another file of the submission has the same SOPInstanceUID; the first received is kept') });
      continue;
    }
    const pixelTwin = f.pixelSha256 ? byPixels.get(f.pixelSha256) : undefined;
    if (pixelTwin !== undefined) {
      duplicates.push({ key: f.key, of: pixelTwin, ...finding(QcReason.DUPLICATE_PIXELS, 'another file of the submission has identical pixel data under a different SOPInstanceUID; the first received is kept') });
      continue;
    }
    kept.push(f.key);
    if (f.sopInstanceUid) byUid.set(f.sopInstanceUid, f.key);
    if (f.pixelSha256) byPixels.set(f.pixelSha256, f.key);
  }
  return { kept, duplicates };
}
