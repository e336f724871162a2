import type { DicomJson } from '../dicom/index.js';
import { BlobNotFoundError, LocalBlobStore } from '../storage/BlobStore.js';
import type { BlobStore } from '../storage/store.js';
import { holdingFile, metadataOnWorker } from './imagingPool.js';
import type { InstanceRow } from './InstanceStore.js';

/** Stands for the service root in cached JSON; replaced per request (it depends on X-Forwarded-* or the configured base URL). */
const BASE = '\u0000BASE\u0000';
const BASE_JSON = JSON.stringify(BASE).slice(1, -1);

/**
 * Instance metadata (DICOM JSON) as WADO-RS serves it: the DICOM JSON derived product ingest
 * made from the stored header (src/ingest/products/dicomJson.ts), read from the derived-data
 * cache (verified: a blob that does not hash to its name is not served), with relative
 * BulkDataURIs made absolute and the archive's identifiers set. Instances ingested before the
 * product existed are read from their (verified) files with the same converter. Answers are
 * kept in a cache bounded by bytes (LRU, Map order = recency), keyed by content hashes, so an
 * entry is never stale.
 */
export class MetadataCache {
  private readonly entries = new Map<string, string>();
  /** The tags each cached entry offers as bulk data (BulkDataURI or InlineBinary); dropped with it. */
  private readonly bulk = new Map<string, Set<string>>();
  private bytes = 0;

  constructor(private readonly derived: BlobStore, private readonly maxBytes = 64 * 1024 * 1024) {}

  static of(config: { dataDir: string }): MetadataCache {
    return new MetadataCache(LocalBlobStore.thumbnailsOf(config));
  }

  /** The instance's DICOM JSON as text, with the archive's identifiers in the standard attributes. */
  async json(row: InstanceRow, readFile: () => Promise<Buffer>, baseUrl: string): Promise<string> {
    const key = keyOf(row);
    let text = this.entries.get(key);
    if (text !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, text);
    } else {
      text = render(row, row.metadataSha256 ? await this.product(row, row.metadataSha256, readFile) : await fromFile(row, readFile));
      this.entries.set(key, text);
      this.bytes += text.length * 2;
      for (const [k, v] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(k);
        this.bulk.delete(k);
        this.bytes -= v.length * 2;
      }
    }
    return text.split(BASE_JSON).join(baseUrl);
  }

  /**
   * The tags the instance's metadata offers as bulk data, kept with its cached JSON: a bulkdata
   * request parsed the whole JSON each time to look one tag up (a header of 20,000 sequence
   * items: 2 MB of JSON, 45 ms of the event loop per request, 404s included).
   */
  async bulkTags(row: InstanceRow, readFile: () => Promise<Buffer>): Promise<Set<string>> {
    const key = keyOf(row);
    let tags = this.bulk.get(key);
    if (!tags) {
      const json = JSON.parse(await this.json(row, readFile, '')) as Record<string, { BulkDataURI?: string; InlineBinary?: string }>;
      tags = new Set(Object.keys(json).filter((tag) => json[tag]?.BulkDataURI || json[tag]?.InlineBinary));
      if (this.entries.has(key)) this.bulk.set(key, tags);
    }
    return tags;
  }

  private async product(row: InstanceRow, sha: string, readFile: () => Promise<Buffer>): Promise<DicomJson> {
    try {
      return JSON.parse((await this.derived.get(sha)).toString('utf8')) as DicomJson;
    } catch (err) {
      // A derived product is a cache: lost or damaged (a copy that does not hash to its name is
      // not found), it is made again from the archived file.
      if (err instanceof SyntaxError || err instanceof BlobNotFoundError) return fromFile(row, readFile);
      throw err;
    }
  }
}

function keyOf(row: InstanceRow): string {
  return `${row.sopUid}|${row.metadataSha256 ?? row.sha256}`;
}

/**
 * What the product holds, made from the file by the same converter (instances archived before the
 * product existed): parsed through dcmjs on an imaging worker, never on the event loop, and the
 * file held against the pool's byte budget.
 */
async function fromFile(row: InstanceRow, readFile: () => Promise<Buffer>): Promise<DicomJson> {
  return holdingFile(row.size, async () => metadataOnWorker(await readFile()));
}

function render(row: InstanceRow, json: DicomJson): string {
  const instanceUrl = `${BASE}/studies/${row.studyUid}/series/${row.seriesUid}/instances/${row.sopUid}`;
  // The product's BulkDataURIs are relative to the instance ("bulkdata/7FE00010").
  for (const el of Object.values(json)) if (el.BulkDataURI && !/^[a-z]+:/i.test(el.BulkDataURI)) el.BulkDataURI = `${instanceUrl}/${el.BulkDataURI}`;
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
