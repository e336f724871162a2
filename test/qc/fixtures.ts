// Presets for the QC tests: crafted images built by the test kit's one DICOM builder
// (test/support/dicom.ts), plus the public samples in ../shared/deid/dicom.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DicomDataset } from '../../src/dicom';
import { buildImage } from '../support/dicom';

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
  const or = <T>(v: T | null | undefined, fallback: T) => (v === undefined ? fallback : v);
  return buildImage({
    patientId: or(spec.patientId, 'PAT-001'), study: or(spec.study, '1.2.826.0.1.3680043.99.5.1'), series: or(spec.series, '1.2.826.0.1.3680043.99.6.1'),
    sop, rows, columns, bitsAllocated: bits, bitsStored: bits === 16 ? 12 : 8, noGeometry: spec.noGeometry,
    pixels: spec.pixels === undefined ? pixelsFor(rows, columns, bits, spec.seed ?? 0) : spec.pixels,
    transferSyntax: spec.transferSyntax ?? EXPLICIT_LE, extra: spec.extra,
    extraMeta: sop === null ? { '00020003': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.8'] } } : {},
  });
}
