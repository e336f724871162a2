// Presets for the deid tests. Files are built by test/support/dicom.ts (with dcmjs, as the
// pipeline receives them from modalities, and byte by byte for character-set cases, because
// dcmjs always writes UTF-8 whatever Specific Character Set says).
import path from 'node:path';
import type { DicomDataset } from '../../src/dicom';
import { OBIA_DEFAULT_OPTIONS, type DeidContext, type DeidOptions } from '../../src/deid';

export const SAMPLES_DIR = path.resolve(process.cwd(), '../shared/deid/dicom');
export const DATA_DIR = path.resolve(process.cwd(), 'src/deid/data');

export const SECRET = 'obia-test-secret-0123456789abcdef';

export function context(options: Partial<DeidOptions> = {}, individualAccession = 'OBIA-IND-000042', dateOffsetDays = -400): DeidContext {
  return { secret: SECRET, individualAccession, dateOffsetDays, options: { ...OBIA_DEFAULT_OPTIONS, ...options } };
}

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const US_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.6.1';

// Files are written by the test kit's one DICOM builder.
export { rawPart10, readPart10, writePart10, type RawElement } from '../support/dicom';

/** A 16-bit monochrome image dataset with the given pixel size, every pixel = `fill`. */
export function imageDataset(rows: number, columns: number, fill: number, extra: DicomDataset = {}): DicomDataset {
  const pixels = new Uint16Array(rows * columns).fill(fill);
  return {
    '00080016': { vr: 'UI', Value: [CT_IMAGE_STORAGE] },
    '00080018': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.1.1'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.2'] },
    '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.3'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [rows] },
    '00280011': { vr: 'US', Value: [columns] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [pixels.buffer] },
    ...extra,
  };
}

export function str(ds: DicomDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic);
  return v === undefined ? undefined : String(v);
}
