// THE DICOM fixture builder of the test kit. Every synthetic file a test needs (a CT for the
// ingest tests, a crafted image for QC, a dataset for de-identification, a pixel layout for
// imaging) is written here by dcmjs, the way a modality or PACS export produces one; byte-exact
// files (character sets, broken structures) by rawPart10. Test suites keep only presets
// (helpers.ts/fixtures.ts) that choose values.
import { dcmjs, type DicomDataset } from '../../src/dicom/index.js';
import { DEFLATED_LE, EXPLICIT_LE } from '../../src/dicom/transferSyntax.js';
import { deflateRawSync } from 'node:zlib';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Writes a Part 10 file with dcmjs from a dataset in dcmjs' tag-keyed form. */
export function writePart10(dataset: DicomDataset, extraMeta: DicomDataset = {}, transferSyntax = EXPLICIT_LE): Buffer {
  const sopClass = (dataset['00080016']?.Value?.[0] as string | undefined) ?? CT_IMAGE_STORAGE;
  const sopInstance = (dataset['00080018']?.Value?.[0] as string | undefined) ?? '1.2.3.4';
  const meta: DicomDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClass] },
    '00020003': { vr: 'UI', Value: [sopInstance] },
    '00020010': { vr: 'UI', Value: [transferSyntax] },
    '00020012': { vr: 'UI', Value: ['1.2.3.4.5.6.7'] },
    ...extraMeta,
  };
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dataset;
  // Values longer than their VR allows are written as given: hostile files carry them.
  return Buffer.from(dict.write({ allowInvalidVRLength: true }));
}

export function readPart10(bytes: Uint8Array): { meta: DicomDataset; dict: DicomDataset } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: false });
  return { meta: parsed.meta, dict: parsed.dict };
}

export interface RawElement { tag: string; vr: string; value: Buffer }

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function encodeExplicit(e: RawElement): Buffer {
  const value = e.value.length % 2 ? Buffer.concat([e.value, Buffer.from(e.vr === 'UI' ? '\0' : ' ')]) : e.value;
  const long = LONG_VRS.has(e.vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(parseInt(e.tag.slice(0, 4), 16), 0);
  header.writeUInt16LE(parseInt(e.tag.slice(4, 8), 16), 2);
  header.write(e.vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/**
 * Byte-exact Explicit VR Little Endian Part 10 file (elements must be given in tag order); with
 * DEFLATED_LE, the same dataset deflated. `encodeRaw` gives the bytes of elements, to nest them
 * as an item's value.
 */
export function rawPart10(elements: RawElement[], transferSyntax: typeof EXPLICIT_LE | typeof DEFLATED_LE = EXPLICIT_LE): Buffer {
  const ts = encodeExplicit({ tag: '00020010', vr: 'UI', value: Buffer.from(transferSyntax) });
  const sopClass = encodeExplicit({ tag: '00020002', vr: 'UI', value: Buffer.from('1.2.840.10008.5.1.4.1.1.7') });
  const sopInstance = encodeExplicit({ tag: '00020003', vr: 'UI', value: Buffer.from('1.2.3.4.99') });
  const metaBody = Buffer.concat([sopClass, sopInstance, ts]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(2, 0);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(metaBody.length, 8);
  const dataset = encodeRaw(elements);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, metaBody, transferSyntax === DEFLATED_LE ? deflateRawSync(dataset) : dataset]);
}

export function encodeRaw(elements: RawElement[]): Buffer {
  return Buffer.concat(elements.map(encodeExplicit));
}

/**
 * `n` US elements (value 7) in odd, private groups from 6001 on, in tag order: 10 bytes each, the
 * densest a file can pack data elements — what an element-count bomb is made of.
 */
export function tinyElements(n: number): RawElement[] {
  const hex4 = (x: number) => x.toString(16).toUpperCase().padStart(4, '0');
  return Array.from({ length: n }, (_, i) => ({ tag: hex4(0x6001 + 2 * Math.floor(i / 0xffff)) + hex4(1 + (i % 0xffff)), vr: 'US', value: Buffer.from([7, 0]) }));
}

/** An image to build; every identity attribute can be set, defaulted, or left out (null). */
export interface ImageFixture {
  patientId?: string | null;
  patientName?: string | null;
  study?: string | null;
  series?: string | null;
  sop?: string | null;
  sopClass?: string;
  modality?: string;
  instanceNumber?: number;
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
  /** Raw Pixel Data value (little endian); null leaves Pixel Data out. */
  pixels: Uint8Array | null;
  /** Leave Rows/Columns out (an image whose header no longer says it is one). */
  noGeometry?: boolean;
  transferSyntax?: string;
  /** More attributes, tag-keyed ('00100030': { vr: 'DA', Value: [...] }); they win over the above. */
  extra?: DicomDataset;
  extraMeta?: DicomDataset;
}

/** One image as Part 10 bytes, written by dcmjs. */
export function buildImage(f: ImageFixture): Buffer {
  const spp = f.samplesPerPixel ?? 1;
  const bits = f.bitsAllocated ?? 16;
  const ds: DicomDataset = {
    '00080016': { vr: 'UI', Value: [f.sopClass ?? CT_IMAGE_STORAGE] },
    '00080060': { vr: 'CS', Value: [f.modality ?? 'CT'] },
    '00280002': { vr: 'US', Value: [spp] },
    '00280004': { vr: 'CS', Value: [f.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')] },
    '00280100': { vr: 'US', Value: [bits] },
    '00280101': { vr: 'US', Value: [f.bitsStored ?? bits] },
    '00280102': { vr: 'US', Value: [(f.bitsStored ?? bits) - 1] },
    '00280103': { vr: 'US', Value: [f.pixelRepresentation ?? 0] },
  };
  const set = (tag: string, vr: string, v: unknown) => { if (v !== undefined && v !== null) ds[tag] = { vr, Value: [v] }; };
  set('00080018', 'UI', f.sop);
  set('00100010', 'PN', f.patientName == null ? null : { Alphabetic: f.patientName });
  set('00100020', 'LO', f.patientId);
  set('0020000D', 'UI', f.study);
  set('0020000E', 'UI', f.series);
  set('00200013', 'IS', f.instanceNumber);
  if (!f.noGeometry) {
    set('00280010', 'US', f.rows ?? 16);
    set('00280011', 'US', f.columns ?? 16);
  }
  if (spp === 3) set('00280006', 'US', f.planarConfiguration ?? 0);
  if (f.frames) set('00280008', 'IS', String(f.frames));
  if (f.window) { set('00281050', 'DS', f.window.center); set('00281051', 'DS', f.window.width); }
  if (f.rescale) { set('00281052', 'DS', f.rescale.intercept); set('00281053', 'DS', f.rescale.slope); }
  // Pixel Data given in `extra` (an encapsulated frame, say) wins like every other extra attribute.
  if (f.pixels !== null && !(f.extra && '7FE00010' in f.extra)) {
    const ab = f.pixels.buffer.slice(f.pixels.byteOffset, f.pixels.byteOffset + f.pixels.byteLength) as ArrayBuffer;
    ds['7FE00010'] = { vr: bits === 8 ? 'OB' : 'OW', Value: [ab] };
  }
  Object.assign(ds, f.extra);
  // dcmjs writes elements in the order given; DICOM wants them sorted by tag.
  const sorted = Object.fromEntries(Object.entries(ds).sort(([a], [b]) => a.localeCompare(b)));
  return writePart10(sorted, f.extraMeta, f.transferSyntax ?? EXPLICIT_LE);
}
