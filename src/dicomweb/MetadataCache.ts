import { readDataset, toDicomJson } from './dicomFile.js';
import type { InstanceRow } from './InstanceStore.js';

/** Stands for the service root in cached JSON; replaced per request (it depends on X-Forwarded-* or the configured base URL). */
const BASE = '\u0000BASE\u0000';
const BASE_JSON = JSON.stringify(BASE).slice(1, -1);

/**
 * Instance metadata (DICOM JSON) computed from the stored files, kept in a cache bounded by
 * bytes (LRU, Map order = recency). Keys are the files' SHA-256: stored files never change, so
 * an entry is never stale. Until the ingest-stages work (#14) gives DICOM JSON as a derived
 * product, this is what makes series metadata cheap after its first read.
 */
export class MetadataCache {
  private readonly entries = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The instance's DICOM JSON as text, with the archive's identifiers in the standard attributes. */
  async json(row: InstanceRow, read: () => Promise<Buffer>, baseUrl: string): Promise<string> {
    const key = `${row.sha256}|${row.studyUid}|${row.seriesUid}`;
    let text = this.entries.get(key);
    if (text !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, text);
    } else {
      text = render(row, await read());
      this.entries.set(key, text);
      this.bytes += text.length * 2;
      for (const [k, v] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(k);
        this.bytes -= v.length * 2;
      }
    }
    return text.split(BASE_JSON).join(baseUrl);
  }
}

function render(row: InstanceRow, bytes: Buffer): string {
  const { dict } = readDataset(bytes);
  const instanceUrl = `${BASE}/studies/${row.studyUid}/series/${row.seriesUid}/instances/${row.sopUid}`;
  const json = toDicomJson(dict, (tag) => `${instanceUrl}/bulkdata/${tag}`);
  // The archive's identifiers, as QIDO-RS answers them (src/dicomweb/attributes.ts).
  json['00080050'] = { vr: 'SH', Value: [row.studyAccession] };
  json['00100020'] = { vr: 'LO', Value: [row.individualAccession] };
  json['00120020'] = { vr: 'LO', Value: [row.collectionAccession] };
  json['00200010'] = { vr: 'SH', Value: [row.studyAccession] };
  json['00083002'] = { vr: 'UI', Value: [row.transferSyntaxUid] };
  json['00081190'] = { vr: 'UR', Value: [instanceUrl] };
  const sorted: Record<string, unknown> = {};
  for (const tag of Object.keys(json).sort()) sorted[tag] = json[tag];
  return JSON.stringify(sorted);
}
