// Crafted DICOM files for the QC tests, written by dcmjs (the way a modality or PACS export
// produces them) through the deid test kit, plus the public samples in ../shared/deid/dicom.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DicomDataset } from '../../src/deid/dcmjs';
import { writePart10 } from '../deid/fixtures';

export const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');

export function sample(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(SAMPLES, name)));
}

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

export interface ImageSpec {
  patientId?: string | null;
  study?: string | null;
  series?: string | null;
  sop?: string | null;
  rows?: number;
  columns?: number;
  bits?: 8 | 16;
  /** Varies the pixel pattern: same seed and size → identical Pixel Data. */
  seed?: number;
  /** Raw Pixel Data value; null leaves Pixel Data out. Default: rows×columns samples from `seed`. */
  pixels?: Uint8Array | null;
  /** Leave Rows/Columns out (an image whose header no longer says it is one). */
  noGeometry?: boolean;
  transferSyntax?: string;
  extra?: DicomDataset;
}

export function pixelsFor(rows: number, columns: number, bits: 8 | 16, seed: number): Uint8Array {
  const n = rows * columns;
  if (bits === 8) return new Uint8Array(n).map((_, i) => (i * 31 + seed * 17) & 0xff);
  const px = new Uint16Array(n).map((_, i) => (i * 7 + seed * 101) % 4096);
  return new Uint8Array(px.buffer);
}

let counter = 0;

/** One CT image as Part 10 bytes; every identity attribute can be set or left out (null). */
export function image(spec: ImageSpec = {}): Buffer {
  const rows = spec.rows ?? 16, columns = spec.columns ?? 16, bits = spec.bits ?? 16;
  const sop = spec.sop === undefined ? `1.2.826.0.1.3680043.99.7.${++counter}` : spec.sop;
  const ds: DicomDataset = {
    '00080016': { vr: 'UI', Value: [CT_IMAGE_STORAGE] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280100': { vr: 'US', Value: [bits] },
    '00280101': { vr: 'US', Value: [bits === 16 ? 12 : 8] },
    '00280102': { vr: 'US', Value: [bits === 16 ? 11 : 7] },
    '00280103': { vr: 'US', Value: [0] },
    ...spec.extra,
  };
  const set = (tag: string, vr: string, v: string | null | undefined, fallback: string) => {
    const value = v === undefined ? fallback : v;
    if (value !== null) ds[tag] = { vr, Value: [value] };
  };
  set('00080018', 'UI', sop, '');
  set('00100020', 'LO', spec.patientId, 'PAT-001');
  set('0020000D', 'UI', spec.study, '1.2.826.0.1.3680043.99.5.1');
  set('0020000E', 'UI', spec.series, '1.2.826.0.1.3680043.99.6.1');
  if (!spec.noGeometry) {
    ds['00280010'] = { vr: 'US', Value: [rows] };
    ds['00280011'] = { vr: 'US', Value: [columns] };
  }
  const pixels = spec.pixels === undefined ? pixelsFor(rows, columns, bits, spec.seed ?? 0) : spec.pixels;
  if (pixels !== null) {
    const ab = pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength) as ArrayBuffer;
    ds['7FE00010'] = { vr: bits === 8 ? 'OB' : 'OW', Value: [ab] };
  }
  const meta: DicomDataset = sop === null ? { '00020003': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.8'] } } : {};
  return writePart10(ds, meta, spec.transferSyntax ?? EXPLICIT_LE);
}
