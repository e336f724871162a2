// The DICOM JSON Model (PS3.18 Annex F.2) of a dataset: what DICOMweb's WADO-RS /metadata and
// QIDO-RS answer with. Keys are the tags as 8 upper-case hex digits; each attribute carries its
// VR and, when it has one, its value: `Value` (numbers for IS/DS and the binary numeric VRs,
// { Alphabetic, Ideographic, Phonetic } for PN, "ggggeeee" for AT, nested datasets for SQ),
// or for bulk data (OB, OW, UN …) `InlineBinary` (base64) when small and `BulkDataURI` otherwise.
import type { DicomDataset, DicomElement } from './dcmjs';
import { BINARY_VRS, binaryBytes, stripPadding } from './values';
const NUMERIC_STRING_VRS = new Set(['IS', 'DS']);

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJson = Record<string, DicomJsonAttribute>;

export interface DicomJsonOptions {
  /**
   * Bulk data longer than this many bytes is referenced instead of inlined (Pixel Data always).
   * The URI is relative to the instance ("bulkdata/7FE00010"); the DICOMweb layer resolves it.
   */
  inlineBinaryMax?: number;
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

function attribute(tag: string, el: DicomElement, opts: Required<DicomJsonOptions>, path: string): DicomJsonAttribute {
  const vr = el.vr;
  const values = (el.Value ?? []).filter((v) => v !== undefined && v !== null && v !== '');
  if (values.length === 0) return { vr };
  if (BINARY_VRS.has(vr)) {
    const bytes = binaryBytes(el.Value ?? []);
    if (tag === '7FE00010' || tag === '7FE00008' || tag === '7FE00009' || bytes.length > opts.inlineBinaryMax) return { vr, BulkDataURI: `bulkdata/${path}${tag}` };
    return { vr, InlineBinary: Buffer.from(bytes).toString('base64') };
  }
  if (vr === 'SQ') {
    return { vr, Value: (el.Value as DicomDataset[]).map((item, i) => toDicomJson(item, opts, `${path}${tag}/${i + 1}/`)) };
  }
  if (vr === 'PN') {
    return { vr, Value: values.map((v) => (typeof v === 'object' ? v : { Alphabetic: String(v) })) };
  }
  if (vr === 'AT') return { vr, Value: values.map((v) => (typeof v === 'number' ? hex8(v) : String(v).replace(/[(),]/g, '').toUpperCase())) };
  if (NUMERIC_STRING_VRS.has(vr)) {
    return { vr, Value: values.map((v) => (typeof v === 'number' ? v : Number(String(v).trim()))).filter((n) => Number.isFinite(n)) };
  }
  return { vr, Value: values.map((v) => (typeof v === 'string' ? stripPadding(v) : v)) };
}

/** The dataset (dcmjs's tag-keyed form) in the DICOM JSON Model, tags in ascending order. */
export function toDicomJson(ds: DicomDataset, options: DicomJsonOptions = {}, path = ''): DicomJson {
  const opts = { inlineBinaryMax: options.inlineBinaryMax ?? 1024 };
  const out: DicomJson = {};
  for (const tag of Object.keys(ds).sort()) {
    const key = tag.toUpperCase();
    // Group lengths are retired in datasets (PS3.5 §7.2) and meaningless once re-encoded.
    if (key.endsWith('0000')) continue;
    out[key] = attribute(key, ds[tag], opts, path);
  }
  return out;
}
