import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

import { dcmjs } from '../../src/dicom';
import { buildImage } from '../support/dicom';

export const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
export const PREVIEWS = path.resolve(process.cwd(), '../shared/deid/previews');

export function sample(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(SAMPLES, name)));
}

export interface Stats { mean: number; std: number; min: number; max: number }

export function stats(data: ArrayLike<number>): Stats {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    s += v; s2 += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / data.length - mean * mean)), min, max };
}

export function readPng(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

/** One channel of an RGBA buffer from pngjs. */
export function channel(png: PNG, c: number): Uint8Array {
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * 4 + c];
  return out;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let i = 0; i < n; i++) { sa += a[i]; sb += b[i]; saa += a[i] * a[i]; sbb += b[i] * b[i]; sab += a[i] * b[i]; }
  const cov = sab / n - (sa / n) * (sb / n);
  return cov / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
}

export interface SyntheticOptions {
  rows?: number;
  columns?: number;
  frames?: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  samplesPerPixel?: 1 | 3;
  photometric?: string;
  planarConfiguration?: 0 | 1;
  rescale?: { slope: number; intercept: number };
  window?: { center: number; width: number };
  transferSyntax?: string;
  extra?: Record<string, unknown>;
  /** Raw pixel bytes; little-endian. */
  pixels: Uint8Array;
}

/** A Part 10 file from the test kit's one DICOM builder (dcmjs), so tests exercise exactly what a real writer produces. */
export function makeDicom(o: SyntheticOptions): Uint8Array {
  return new Uint8Array(buildImage({
    sop: '1.2.826.0.1.3680043.8.498.1', rows: o.rows ?? 512, columns: o.columns ?? 512, frames: o.frames,
    bitsAllocated: o.bitsAllocated, bitsStored: o.bitsStored, pixelRepresentation: o.pixelRepresentation,
    samplesPerPixel: o.samplesPerPixel, photometric: o.photometric, planarConfiguration: o.planarConfiguration,
    rescale: o.rescale, window: o.window, pixels: o.pixels, transferSyntax: o.transferSyntax,
    extra: o.extra ? dcmjs.data.DicomMetaDictionary.denaturalizeDataset(o.extra) : undefined,
    extraMeta: { '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.2'] } },
  }));
}

/** Stored values (HU + 1024) of a synthetic 512×512 CT: air, a body disc, and a bone disc. */
export function ctPhantom(size = 512): Int16Array {
  const px = new Int16Array(size * size);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - c, y - c);
      const hu = r < size * 0.1 ? 1000 : r < size * 0.4 ? 40 + ((x * 7 + y * 3) % 20) - 10 : -1000;
      px[y * size + x] = hu + 1024;
    }
  }
  return px;
}

export function bytesOf(a: Int16Array | Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
