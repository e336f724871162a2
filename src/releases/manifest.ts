import crypto from 'node:crypto';

/** One image as a version's manifest lists it. */
export interface ManifestFile {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  studyAccession: string;
  individualAccession: string;
  modality: string | null;
  sha256: string;
  size: number;
}

/** Where an image sits in a download: collection/individual/study/series/SOPInstanceUID.dcm (as in src/access). */
export function manifestPath(collection: string, f: Pick<ManifestFile, 'individualAccession' | 'studyAccession' | 'seriesInstanceUid' | 'sopInstanceUid'>): string {
  return `${collection}/${f.individualAccession}/${f.studyAccession}/${f.seriesInstanceUid}/${f.sopInstanceUid}.dcm`;
}

/**
 * The checksums of a version, computed in one pass over its files in hierarchy order:
 *  - manifest: sha256 of the canonical manifest text, one `<sha256>  <size>  <path>\n` line per
 *    file in hierarchy order (sha256sum's layout plus the size), then one
 *    `withdrawn  <SOPInstanceUID>  <reason>\n` line per tombstone in UID order. It names the
 *    content only (no version number or date), so an unchanged collection is recognised as such.
 *  - bundle: the DRS 1.4 bundle checksum, sha256 over the sorted concatenation of the files'
 *    sha256 hex strings (DrsObject.checksums).
 */
export class ManifestDigest {
  private readonly manifest = crypto.createHash('sha256');
  private readonly shas: string[] = [];
  private last: string[] = [];
  count = 0;
  totalSize = 0;

  constructor(private readonly collection: string) {}

  /**
   * Adds the next file. Files come in hierarchy order (individual, study, series, SOP instance
   * accession/UID, each compared as a string), the order the manifest is defined in.
   */
  add(f: ManifestFile): void {
    const path = manifestPath(this.collection, f);
    const key = [f.individualAccession, f.studyAccession, f.seriesInstanceUid, f.sopInstanceUid];
    if (compareKeys(key, this.last) <= 0) throw new Error(`manifest files out of order: ${path} after ${this.last.join('/')}`);
    this.last = key;
    this.manifest.update(`${f.sha256}  ${f.size}  ${path}\n`);
    this.shas.push(f.sha256);
    this.count++;
    this.totalSize += f.size;
  }

  finish(tombstones: { sopInstanceUid: string; reason: string }[]): { manifestSha256: string; bundleSha256: string } {
    for (const t of [...tombstones].sort((a, b) => (a.sopInstanceUid < b.sopInstanceUid ? -1 : 1))) {
      this.manifest.update(`withdrawn  ${t.sopInstanceUid}  ${t.reason}\n`);
    }
    return { manifestSha256: this.manifest.digest('hex'), bundleSha256: bundleChecksum(this.shas) };
  }
}

/** DRS 1.4: a bundle's checksum is computed over the sorted concatenation of its contents' checksums. */
export function bundleChecksum(shas: string[]): string {
  return crypto.createHash('sha256').update([...shas].sort().join('')).digest('hex');
}

function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === undefined) return -1;
    if (b[i] === undefined) return 1;
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}
