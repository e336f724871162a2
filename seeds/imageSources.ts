import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { frame } from '../src/dicom/index.js';
import { readNifti, axialSlice, type NiftiVolume } from './nifti.js';
import { readAttributes, rewriteFile, SOP_CLASS, writeImage } from './dicomKit.js';

/** Where the real images the default archive is built from live (see seeds/images/ATTRIBUTION.md). */
export const IMAGES_DIR = path.resolve(__dirname, '../../seeds/images');

/** Who and what a generated series belongs to: the seed's local patient, study and series. */
export interface SeriesContext {
  patientId: string;
  patientName: string;
  age: number;
  studyInstanceUid: string;
  studyDate: string;
  studyDescription: string;
  studyId: string;
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  modality: string;
  site: string;
  /** A fresh UID (seeded: the same archive every time). */
  uid: () => string;
}

/** One series' worth of a real image source: distinct pixels, never shared with another unit. */
export interface SourceUnit {
  /** Key of the attribution file's table row. */
  source: string;
  /** The series description the source supports (what was acquired, as far as it is known). */
  description: string;
  images: number;
  /** The study date the source's own files carry (kept for de-identification to shift), if any. */
  fixedStudyDate?: string;
  build(ctx: SeriesContext): Buffer[];
}

export type Pair = `${string}:${string}`;

/** Paired organs: General Series' Laterality is required (empty: both sides, or not known). */
const PAIRED = new Set(['KIDNEY', 'LUNG', 'BREAST', 'OVARY']);

/** Attributes every seeded file has: the patient and study as the seed's submitter sends them. */
function common(ctx: SeriesContext, instance: number): Record<string, unknown> {
  return {
    SpecificCharacterSet: 'ISO_IR 100',
    StudyDate: ctx.studyDate, StudyTime: '093000', SeriesDate: ctx.studyDate, ContentDate: ctx.studyDate, ContentTime: '093000',
    AccessionNumber: '', ReferringPhysicianName: '', Manufacturer: '', StudyDescription: ctx.studyDescription,
    SeriesDescription: ctx.seriesDescription, PatientName: ctx.patientName, PatientID: ctx.patientId,
    PatientBirthDate: '', PatientSex: 'F', PatientAge: `${String(ctx.age).padStart(3, '0')}Y`,
    BodyPartExamined: ctx.site, StudyInstanceUID: ctx.studyInstanceUid, SeriesInstanceUID: ctx.seriesInstanceUid,
    StudyID: ctx.studyId, SeriesNumber: ctx.seriesNumber, InstanceNumber: instance, Modality: ctx.modality,
    SOPInstanceUID: ctx.uid(),
    ...(PAIRED.has(ctx.site) ? { Laterality: '' } : {}),
  };
}

/** Soft-tissue, lung and angiography windows (centre, width) in HU, per anatomical site. */
const CT_WINDOWS: Record<string, [number, number][]> = {
  CHEST: [[40, 400], [-600, 1500]], LUNG: [[-600, 1500], [40, 400]], LIVER: [[60, 160], [40, 400]],
  DEFAULT: [[40, 400], [300, 1500]],
};

function percentile(sorted: Float32Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(p * (sorted.length - 1))))]!;
}

/**
 * Axial planes [from, to) of a NIfTI volume as a CT or MR series, every `step`-th plane
 * averaged over `average` planes (1: the planes as acquired; more: a thicker reconstruction).
 */
function volumeSlab(vol: () => NiftiVolume, source: string, kind: 'CT' | 'MR', planes: number[], average = 1, derivation: string): SourceUnit {
  const thickness = kind === 'CT' ? (source === 'totalsegmentator-chest-cta' ? 1.5 : 3) * average : 3;
  return {
    source, images: planes.length,
    description: kind === 'CT' ? `AXIAL ${thickness}mm${average > 1 ? ' AVERAGE' : ''}${source === 'totalsegmentator-chest-cta' ? ' CTA' : ''}` : 'ABDOMEN 3mm',
    build(ctx) {
      const v = vol();
      const slices = planes.map((k) => {
        const first = axialSlice(v, k);
        if (average === 1) return first;
        const sum = new Float32Array(first.values);
        for (let a = 1; a < average; a++) axialSlice(v, k + a).values.forEach((x, i) => { sum[i]! += x; });
        // The thick slice sits at the centre of the planes it averages.
        const last = axialSlice(v, k + average - 1);
        return { ...first, values: sum.map((x) => x / average), sliceThickness: first.sliceThickness * average,
          imagePositionPatient: first.imagePositionPatient.map((x, i) => Math.round(((x + last.imagePositionPatient[i]!) / 2) * 1e4) / 1e4) as typeof first.imagePositionPatient };
      });
      let window: [number, number][];
      let toStored: (x: number) => number;
      let bits: number;
      if (kind === 'CT') {
        window = CT_WINDOWS[ctx.site] ?? CT_WINDOWS.DEFAULT!;
        toStored = (hu) => Math.min(4095, Math.max(0, Math.round(hu) + 1024));
        bits = 12;
      } else {
        const all = Float32Array.from(slices.flatMap((s) => Array.from(s.values))).sort();
        const lo = percentile(all, 0.01), hi = percentile(all, 0.995);
        window = [[Math.round((lo + hi) / 2), Math.max(1, Math.round(hi - lo))]];
        toStored = (x) => Math.min(65535, Math.max(0, Math.round(x)));
        bits = 16;
      }
      const frameOfReference = ctx.uid();
      return slices.map((s, n) => writeImage({
        ...common(ctx, n + 1),
        SOPClassUID: kind === 'CT' ? SOP_CLASS.CT : SOP_CLASS.MR,
        ImageType: ['DERIVED', 'SECONDARY', 'AXIAL'], DerivationDescription: derivation,
        PatientPosition: 'HFS', FrameOfReferenceUID: frameOfReference, PositionReferenceIndicator: '',
        ImagePositionPatient: s.imagePositionPatient, ImageOrientationPatient: s.imageOrientationPatient,
        SliceLocation: s.imagePositionPatient[2], SliceThickness: s.sliceThickness, PixelSpacing: s.pixelSpacing,
        AcquisitionNumber: 1, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2',
        Rows: s.rows, Columns: s.columns, BitsAllocated: 16, BitsStored: bits, HighBit: bits - 1, PixelRepresentation: 0,
        WindowCenter: window.map((w) => w[0]), WindowWidth: window.map((w) => w[1]),
        ...(kind === 'CT'
          ? { RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU', KVP: '' }
          // What the MR volume's acquisition was is not known: Research Mode, no variant, the rest empty (type 2).
          : { ScanningSequence: 'RM', SequenceVariant: 'NONE', ScanOptions: '', MRAcquisitionType: '', RepetitionTime: '', EchoTime: '', EchoTrainLength: '' }),
      }, Uint16Array.from(s.values, toStored)));
    },
  };
}

/** Planes [from, to) cut into `n` contiguous slabs of at most `max` planes (fewer slabs if too thin). */
function slabs(from: number, to: number, n: number, min: number, max: number): number[][] {
  const count = Math.min(n, Math.floor((to - from) / min));
  const length = Math.min(max, Math.floor((to - from) / Math.max(1, count)));
  return Array.from({ length: count }, (_, s) => Array.from({ length }, (_, i) => from + s * length + i));
}

/** A greyscale JPEG as a Secondary Capture image of the given modality and site. */
function jpegImage(file: string, ctx: SeriesContext, instance: number, conversion: string): Buffer {
  const decoded = jpeg.decode(fs.readFileSync(file), { useTArray: true, formatAsRGBA: true });
  const grey = new Uint8Array(decoded.width * decoded.height);
  for (let p = 0; p < grey.length; p++) grey[p] = decoded.data[4 * p]!;
  return writeImage({
    ...common(ctx, instance),
    SOPClassUID: SOP_CLASS.SECONDARY_CAPTURE, ConversionType: 'WSD', ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription: conversion, PatientOrientation: '',
    SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', Rows: decoded.height, Columns: decoded.width,
    BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0,
  }, grey);
}

function listFiles(dir: string): string[] {
  const abs = path.join(IMAGES_DIR, dir);
  return fs.existsSync(abs) ? fs.readdirSync(abs).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(abs, f)) : [];
}

/** Each file of a folder as a one-image series (2-D images of different patients). */
function jpegSingles(dir: string, source: string, description: string, conversion: string): (n: number) => SourceUnit[] {
  return (n) => listFiles(dir).slice(0, n).map((file) => ({ source, description, images: 1, build: (ctx) => [jpegImage(file, ctx, 1, conversion)] }));
}

/** A received DICOM series (or one file), placed into the seed patient's study; dates and devices left as received. */
function dicomFiles(dir: string, source: string, sopClassIfMissing: string): (n: number) => SourceUnit[] {
  return (n) => {
    const files = listFiles(dir);
    if (n < 1 || files.length === 0) return [];
    const first = readAttributes(fs.readFileSync(files[0]!));
    return [{
      source, description: String(first.SeriesDescription ?? '') || source, images: files.length, fixedStudyDate: String(first.StudyDate ?? '') || undefined,
      build(ctx) {
        const frameOfReference = ctx.uid();
        return files.map((f, i) => {
          const bytes = fs.readFileSync(f);
          // The archive's front door first: rewriting with dcmjs would otherwise launder a file the
          // archive quarantines when received (dcmjs zero-fills a cut fragment and writes it whole).
          try { frame(bytes); } catch (err) { throw new Error(`seed source ${path.relative(IMAGES_DIR, f)} is not a file the archive accepts: ${(err as Error).message}`); }
          const own = readAttributes(bytes);
          return rewriteFile(bytes, {
            PatientName: ctx.patientName, PatientID: ctx.patientId, PatientSex: 'F', PatientAge: `${String(ctx.age).padStart(3, '0')}Y`, PatientBirthDate: '',
            StudyInstanceUID: ctx.studyInstanceUid, SeriesInstanceUID: ctx.seriesInstanceUid, SOPInstanceUID: ctx.uid(),
            SOPClassUID: own.SOPClassUID || sopClassIfMissing, StudyID: ctx.studyId, StudyDescription: ctx.studyDescription,
            SeriesNumber: ctx.seriesNumber, InstanceNumber: own.InstanceNumber ?? i + 1, BodyPartExamined: ctx.site, Modality: ctx.modality,
            ...(own.ImagePositionPatient ? { FrameOfReferenceUID: frameOfReference } : {}),
          });
        });
      },
    }];
  };
}

const lazy = <T>(make: () => T) => { let v: T | undefined; return () => (v ??= make()); };
const ctAbdomenPelvis = lazy(() => readNifti(path.join(IMAGES_DIR, 'ct-abdomen-pelvis.nii.gz')));
const ctChest = lazy(() => readNifti(path.join(IMAGES_DIR, 'ct-chest-angiography.nii.gz')));
const mrAbdomen = lazy(() => readNifti(path.join(IMAGES_DIR, 'mr-abdomen.nii.gz')));

const NIFTI_CT = 'CT volume (NIfTI, Hounsfield units) from TotalSegmentator\'s examples, converted to DICOM by the OBIA Hub seed';

/**
 * The real sources for each (modality, site) pair: given how many series the plan wants,
 * the distinct units the source can give (possibly fewer). Pairs not listed have no real
 * source here and are left out of the default archive (the attribution file lists them).
 * Plane ranges follow the volume's anatomy: in the abdomen-to-pelvis CT, planes 0–33 are
 * the pelvis (bladder, femoral heads), 34–69 the lower abdomen, 70–87 the kidneys, 88–111
 * the liver and spleen. The chest angiography's crop begins in the upper abdomen: planes 42–123
 * are the heart and mediastinum, 124–163 the upper lungs; planes 0–41 are not used.
 */
export const SOURCES: Record<Pair, (n: number) => SourceUnit[]> = {
  'CT:PELVIS': (n) => slabs(0, 34, n, 4, 10).map((p) => volumeSlab(ctAbdomenPelvis, 'totalsegmentator-ct', 'CT', p, 1, NIFTI_CT)),
  'CT:ABDOMEN': (n) => [
    ...dicomFiles('ct-upper-abdomen-dicom', 'totalsegmentator-ct-dicom', SOP_CLASS.CT)(1),
    ...slabs(34, 70, n - 1, 4, 10).map((p) => volumeSlab(ctAbdomenPelvis, 'totalsegmentator-ct', 'CT', p, 1, NIFTI_CT)),
  ].slice(0, n),
  'CT:KIDNEY': (n) => slabs(70, 88, n, 4, 10).map((p) => volumeSlab(ctAbdomenPelvis, 'totalsegmentator-ct', 'CT', p, 1, NIFTI_CT)),
  'CT:LIVER': (n) => slabs(88, 112, n, 4, 10).map((p) => volumeSlab(ctAbdomenPelvis, 'totalsegmentator-ct', 'CT', p, 1, NIFTI_CT)),
  // Abdomen to pelvis in thick averaged slices: 2 to 6 planes (6–18 mm) per slice, each thickness its own series.
  'CT:ABDOMENPELVIS': (n) => Array.from({ length: Math.min(n, 5) }, (_, t) => {
    const average = t + 2;
    const planes = Array.from({ length: Math.floor(112 / average) }, (_, s) => s * average);
    return volumeSlab(ctAbdomenPelvis, 'totalsegmentator-ct', 'CT', planes, average, `${NIFTI_CT}; each slice the mean of ${average} planes of 3 mm`);
  }),
  'CT:CHEST': (n) => slabs(42, 124, n, 6, 12).map((p) => volumeSlab(ctChest, 'totalsegmentator-chest-cta', 'CT', p, 1, NIFTI_CT)),
  'CT:LUNG': (n) => slabs(124, 164, n, 6, 12).map((p) => volumeSlab(ctChest, 'totalsegmentator-chest-cta', 'CT', p, 1, NIFTI_CT)),
  'CT:HEAD': jpegSingles('mednist/HeadCT', 'mednist', 'HEAD AXIAL', 'head CT slice, 64x64 8-bit JPEG (MedNIST) converted to DICOM by the OBIA Hub seed'),
  'MR:ABDOMEN': (n) => [
    ...dicomFiles('mr-abdomen-dicom', 'nema-wg04', SOP_CLASS.MR)(1),
    ...slabs(0, 20, n - 1, 4, 10).map((p) => volumeSlab(mrAbdomen, 'totalsegmentator-mr', 'MR', p, 1, 'MR volume (NIfTI) from TotalSegmentator\'s examples, converted to DICOM by the OBIA Hub seed')),
  ].slice(0, n),
  // One slice per series: the set does not say which slices share a patient.
  'MR:BRAIN': jpegSingles('mr-brain', 'figshare-brain-tumour', 'T1 CE', 'T1-weighted contrast-enhanced brain MR slice, 8-bit JPEG (figshare brain tumour data set) converted to DICOM by the OBIA Hub seed'),
  'MR:BREAST': jpegSingles('mednist/BreastMRI', 'mednist', 'BREAST', 'breast MR slice, 64x64 8-bit JPEG (MedNIST) converted to DICOM by the OBIA Hub seed'),
  'DX:CHEST': jpegSingles('mednist/CXR', 'mednist', 'CHEST', 'chest radiograph, 64x64 8-bit JPEG (MedNIST, from the NIH chest X-ray set) converted to DICOM by the OBIA Hub seed'),
  'CR:CHEST': dicomFiles('cr-chest-dicom', 'nema-wg04', SOP_CLASS.SECONDARY_CAPTURE),
  'NM:WHOLEBODY': dicomFiles('nm-wholebody-dicom', 'nema-wg04', SOP_CLASS.SECONDARY_CAPTURE),
};
