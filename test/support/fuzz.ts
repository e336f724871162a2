// A seeded mutational fuzzer for the per-file readers an upload passes through (the front door,
// identification, QC screening, de-identification and the products made from its output, the
// thumbnail render, the retrieval decode). Every mutant is made from (seed, index) alone, so a
// fault found in a campaign of thousands repeats as one call: `mutantAt(seeds, seed, index)`.
//
// The oracle (`driveMutant`): each reader either succeeds or throws one of the archive's typed
// errors (`isTypedError`); QC's checkFile never throws at all; a de-identified output re-reads
// through the front door; and the mutant's CPU is measured, so a campaign reports its worst file.
import fs from 'node:fs';
import path from 'node:path';
import { deidentify, OBIA_DEFAULT_OPTIONS, readSourceIdentity, type DeidContext } from '../../src/deid/index.js';
import {
  ageYears, DEFLATED_LE, DicomParseError, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, int, isoDate, isUid, readDicom, scalar, text, toDicomJson,
} from '../../src/dicom/index.js';
import {
  decodeFrame, displayParsed, grayOf, imageFromHeader, PixelDataError, renderThumbnail, thumbnailOfDisplay, toDisplay8,
  UnsupportedTransferSyntaxError, type Image8,
} from '../../src/imaging/index.js';
import { checkFile } from '../../src/qc/checks.js';
import { TagCensus } from '../../src/qc/TagCensus.js';
import { decodeImage, ImageDecodeError } from '../../src/retrieval/decode.js';
import { preprocess } from '../../src/retrieval/preprocess.js';
import { buildImage, rawPart10, writePart10 } from './dicom.js';
import { mulberry32, seededRandom, type Random } from './random.js';

// ---------------------------------------------------------------------------------------------
// Seed files

export interface SeedFile { name: string; bytes: Uint8Array }

// Beside the checkout, as every test that reads them finds them (test/qc/fixtures.ts): CI's clean clone has its own.
export const SHARED_SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
export const SHARED_SEED_IMAGES = path.resolve(process.cwd(), '../shared/seed-images');

function isPart10OrDataset(b: Uint8Array): boolean {
  return (b.length > 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d) || (b.length > 8 && (b[0] === 0x08 || b[0] === 0x02) && b[1] === 0x00);
}

function filesUnder(dir: string, depth = 3): string[] {
  if (!fs.existsSync(dir) || depth < 0) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, depth - 1) : e.isFile() ? [p] : [];
  });
}

/** Files the test kit's builder writes: native layouts the shared samples do not all cover. */
export function builtSeeds(): SeedFile[] {
  const text = (tag: string, vr: string, v: string) => ({ tag, vr, value: Buffer.from(v, 'latin1') });
  const us = (tag: string, v: number) => ({ tag, vr: 'US', value: Buffer.from([v & 0xff, v >> 8]) });
  const ramp = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
  const id = { patientId: 'FUZZ-P1', patientName: 'Fuzz^Patient', study: '1.2.3.4.1', series: '1.2.3.4.2', sop: '1.2.3.4.3', instanceNumber: 1 };
  const rleFrame = (() => {
    // One segment of 16x16 8-bit samples, as literal runs of 128 (PS3.5 G.3.1).
    const header = Buffer.alloc(64);
    header.writeUInt32LE(1, 0); header.writeUInt32LE(64, 4);
    const data = ramp(256);
    const runs = [Buffer.from([127]), Buffer.from(data.subarray(0, 128)), Buffer.from([127]), Buffer.from(data.subarray(128))];
    return Buffer.concat([header, ...runs]);
  })();
  return [
    { name: 'built:ct16', bytes: buildImage({ ...id, rows: 16, columns: 16, pixels: ramp(512), window: { center: 40, width: 400 }, rescale: { slope: 1, intercept: -1024 } }) },
    { name: 'built:ct16-signed-implicit', bytes: buildImage({ ...id, rows: 8, columns: 8, pixelRepresentation: 1, bitsStored: 12, pixels: ramp(128), transferSyntax: IMPLICIT_LE }) },
    { name: 'built:mr8-frames', bytes: buildImage({ ...id, modality: 'MR', rows: 8, columns: 8, frames: 3, bitsAllocated: 8, pixels: ramp(192) }) },
    { name: 'built:rgb-planar', bytes: buildImage({ ...id, modality: 'US', rows: 8, columns: 8, samplesPerPixel: 3, planarConfiguration: 1, bitsAllocated: 8, pixels: ramp(192), sopClass: '1.2.840.10008.5.1.4.1.1.6.1' }) },
    { name: 'built:ybr422', bytes: buildImage({ ...id, rows: 4, columns: 8, samplesPerPixel: 3, photometric: 'YBR_FULL_422', bitsAllocated: 8, pixels: ramp(64) }) },
    { name: 'built:mono1-bigendian', bytes: buildImage({ ...id, rows: 8, columns: 8, photometric: 'MONOCHROME1', pixels: ramp(128), transferSyntax: EXPLICIT_BE }) },
    {
      // dcmjs writes a deflated syntax's dataset uncompressed: this one is deflated for real.
      name: 'built:deflated', bytes: rawPart10([
        text('00080016', 'UI', '1.2.840.10008.5.1.4.1.1.7'), text('00080018', 'UI', '1.2.3.4.3'), text('00080060', 'CS', 'OT'),
        text('00100010', 'PN', 'Fuzz^Patient'), text('00100020', 'LO', 'FUZZ-P1'), text('0020000D', 'UI', '1.2.3.4.1'), text('0020000E', 'UI', '1.2.3.4.2'),
        us('00280002', 1), text('00280004', 'CS', 'MONOCHROME2'), us('00280010', 8), us('00280011', 8), us('00280100', 8), us('00280101', 8), us('00280102', 7), us('00280103', 0),
        { tag: '7FE00010', vr: 'OB', value: Buffer.from(ramp(64)) },
      ], DEFLATED_LE),
    },
    {
      name: 'built:rle8', bytes: writePart10({
        '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] }, '00080018': { vr: 'UI', Value: ['1.2.3.4.3'] }, '00080060': { vr: 'CS', Value: ['OT'] },
        '00100020': { vr: 'LO', Value: ['FUZZ-P1'] }, '0020000D': { vr: 'UI', Value: ['1.2.3.4.1'] }, '0020000E': { vr: 'UI', Value: ['1.2.3.4.2'] },
        '00280002': { vr: 'US', Value: [1] }, '00280004': { vr: 'CS', Value: ['MONOCHROME2'] }, '00280010': { vr: 'US', Value: [16] }, '00280011': { vr: 'US', Value: [16] },
        '00280100': { vr: 'US', Value: [8] }, '00280101': { vr: 'US', Value: [8] }, '00280102': { vr: 'US', Value: [7] }, '00280103': { vr: 'US', Value: [0] },
        '7FE00010': { vr: 'OB', Value: [new Uint8Array(rleFrame).buffer] },
      }, {}, '1.2.840.10008.1.2.5'),
    },
  ];
}

/**
 * The seed corpus: the 41 shared samples, the seed images (DICOM only; `maxSeedImages` of the
 * 20 near-identical TotalSegmentator CT slices are enough) and the builder's files.
 */
export function loadSeeds(opts: { maxBytes?: number; sharedSamples?: boolean; seedImages?: boolean; built?: boolean } = {}): SeedFile[] {
  const maxBytes = opts.maxBytes ?? Infinity;
  const out: SeedFile[] = [];
  const add = (file: string, label: string) => {
    const st = fs.statSync(file);
    if (st.size > maxBytes) return;
    const bytes = new Uint8Array(fs.readFileSync(file));
    if (isPart10OrDataset(bytes)) out.push({ name: `${label}:${path.basename(file)}`, bytes });
  };
  if (opts.sharedSamples ?? true) for (const f of filesUnder(SHARED_SAMPLES)) if (f.endsWith('.dcm')) add(f, 'deid');
  if (opts.seedImages ?? true) {
    let ct = 0;
    for (const f of filesUnder(SHARED_SEED_IMAGES)) {
      if (/\.(md|gz|nii|txt|json|tsv)$/i.test(f)) continue;
      if (f.includes('example_ct_dicom') && ct++ >= 2) continue;
      add(f, 'seed');
    }
  }
  if (opts.built ?? true) out.push(...builtSeeds().filter((s) => s.bytes.length <= maxBytes));
  return out;
}

// ---------------------------------------------------------------------------------------------
// A tolerant element scanner: where the elements, their length fields and their values are, as
// far as the bytes allow (it stops at the first thing it cannot read). Mutations aim at these.

export interface ScannedElement {
  tag: number;
  vr: string | null;
  /** Offset of the tag. */
  start: number;
  /** Offset and size (2 or 4) of the length field. */
  lengthOffset: number;
  lengthSize: 2 | 4;
  valueStart: number;
  /** End of the value (for undefined length: after its delimiter, when found). */
  end: number;
  undefinedLength: boolean;
  depth: number;
  /** An item (FFFE,E000) of a sequence or of encapsulated pixel data. */
  item: boolean;
}

export interface Scan { datasetStart: number; little: boolean; explicit: boolean; ts: string | null; elements: ScannedElement[]; meta: ScannedElement[] }

const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));
const LONG = new Set('OB OD OF OL OV OW SQ SV UC UN UR UT UV'.split(' '));

export function scanElements(b: Uint8Array): Scan {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const meta: ScannedElement[] = [];
  let p = b.length > 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d ? 132 : 0;
  let ts: string | null = null;
  while (p + 8 <= b.length && dv.getUint16(p, true) === 0x0002) {
    const vr = String.fromCharCode(b[p + 4], b[p + 5]);
    if (!VRS.has(vr)) break;
    const long = LONG.has(vr);
    if (long && p + 12 > b.length) break;
    const len = long ? dv.getUint32(p + 8, true) : dv.getUint16(p + 6, true);
    const vs = p + (long ? 12 : 8);
    if (vs + len > b.length) break;
    const el = dv.getUint16(p + 2, true);
    meta.push({ tag: 0x00020000 | el, vr, start: p, lengthOffset: p + (long ? 8 : 6), lengthSize: long ? 4 : 2, valueStart: vs, end: vs + len, undefinedLength: false, depth: 0, item: false });
    if (el === 0x0010) ts = Buffer.from(b.subarray(vs, vs + len)).toString('latin1').replace(/[\0 ]+$/, '');
    p = vs + len;
  }
  const datasetStart = p;
  const little = ts !== EXPLICIT_BE;
  const explicit = ts ? ts !== IMPLICIT_LE : p + 6 <= b.length && VRS.has(String.fromCharCode(b[p + 4], b[p + 5]));
  const elements: ScannedElement[] = [];
  if (ts === DEFLATED_LE) return { datasetStart, little, explicit, ts, elements, meta };
  const u16 = (o: number) => dv.getUint16(o, little);
  const u32 = (o: number) => dv.getUint32(o, little);
  let budget = 20_000;
  // Returns the offset after the dataset/item, or -1 when it stopped.
  const walk = (o: number, end: number, depth: number, inItem: boolean): number => {
    while (o + 8 <= end && budget-- > 0) {
      const group = u16(o), element = u16(o + 2);
      if (group === 0xfffe) return element === 0xe00d && inItem ? o + 8 : -1;
      let vr: string | null = null, len: number, vs: number, lo: number, ls: 2 | 4;
      if (explicit) {
        vr = String.fromCharCode(b[o + 4], b[o + 5]);
        if (!VRS.has(vr)) return -1;
        if (LONG.has(vr)) { if (o + 12 > end) return -1; lo = o + 8; ls = 4; len = u32(o + 8); vs = o + 12; } else { lo = o + 6; ls = 2; len = u16(o + 6); vs = o + 8; }
      } else { lo = o + 4; ls = 4; len = u32(o + 4); vs = o + 8; }
      const e: ScannedElement = { tag: ((group << 16) | element) >>> 0, vr, start: o, lengthOffset: lo, lengthSize: ls, valueStart: vs, end: vs + len, undefinedLength: len === 0xffffffff, depth, item: false };
      elements.push(e);
      const isSeq = vr === 'SQ' || (vr === null && len === 0xffffffff) || ((vr === 'OB' || vr === 'OW' || vr === 'UN') && len === 0xffffffff);
      if (isSeq) {
        const after = items(vs, len === 0xffffffff ? end : Math.min(end, vs + len), depth + 1, len === 0xffffffff);
        if (after < 0) return -1;
        e.end = after;
        o = after;
      } else {
        if (vs + len > end) return -1;
        o = vs + len;
      }
    }
    return inItem ? -1 : o;
  };
  const items = (o: number, end: number, depth: number, undefinedLength: boolean): number => {
    while (o + 8 <= end && budget-- > 0) {
      const group = u16(o), element = u16(o + 2), len = u32(o + 4);
      if (group !== 0xfffe) return -1;
      if (element === 0xe0dd) return o + 8;
      if (element !== 0xe000) return -1;
      const e: ScannedElement = { tag: 0xfffee000, vr: null, start: o, lengthOffset: o + 4, lengthSize: 4, valueStart: o + 8, end: o + 8 + len, undefinedLength: len === 0xffffffff, depth, item: true };
      elements.push(e);
      if (len === 0xffffffff) {
        const after = walk(o + 8, end, depth + 1, true);
        if (after < 0) return -1;
        e.end = after;
        o = after;
      } else {
        if (o + 8 + len > end) return -1;
        // Items of pixel data are bytes; those of sequences are datasets (walk them when they look like one).
        const before = elements.length;
        const sub = walk(o + 8, o + 8 + len, depth + 1, false);
        if (sub < 0) elements.length = before;
        o += 8 + len;
      }
    }
    return undefinedLength ? -1 : o;
  };
  walk(datasetStart, b.length, 0, false);
  return { datasetStart, little, explicit, ts, elements, meta };
}

// ---------------------------------------------------------------------------------------------
// Mutations

export interface Mutant { bytes: Uint8Array; ops: string[] }

type Mutation = (r: Random, b: Uint8Array, s: Scan, other: SeedFile) => { bytes: Uint8Array; op: string } | null;

const TRANSFER_SYNTAXES = [
  IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE, '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.203', '1.2.840.10008.1.2.8.1', '1.2.3.4', '',
];

const pick = <T>(r: Random, xs: readonly T[]): T => xs[r.int(0, xs.length - 1)]!;
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function write(b: Uint8Array, offset: number, size: 2 | 4, value: number, little: boolean): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (size === 2) dv.setUint16(offset, value & 0xffff, little); else dv.setUint32(offset, value >>> 0, little);
}

function header(tag: number, vr: string | null, length: number, s: Pick<Scan, 'little' | 'explicit'>): Uint8Array {
  const long = vr === null || LONG.has(vr);
  const h = new Uint8Array(vr === null || !s.explicit ? 8 : long ? 12 : 8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, s.little); dv.setUint16(2, tag & 0xffff, s.little);
  if (vr !== null && s.explicit) {
    h[4] = vr.charCodeAt(0); h[5] = vr.charCodeAt(1);
    if (long) dv.setUint32(8, length >>> 0, s.little); else dv.setUint16(6, length & 0xffff, s.little);
  } else {
    dv.setUint32(4, length >>> 0, s.little);
  }
  return h;
}

const item = (len: number, s: Scan) => header(0xfffee000, null, len, s);
const itemEnd = (s: Scan) => header(0xfffee00d, null, 0, s);
const seqEnd = (s: Scan) => header(0xfffee0dd, null, 0, s);

/** A value a length field is overwritten with: edges, off-by-ones, what remains, near-maxima. */
function hostileLength(r: Random, e: ScannedElement, total: number): number {
  const declared = e.end - e.valueStart;
  const max = e.lengthSize === 2 ? 0xffff : 0xffffffff;
  return pick(r, [0, max, max - 1, max - 2, declared + 1, declared - 1, declared | 1, declared + 2, declared * 2, total - e.valueStart, total - e.valueStart + 2,
    0x7fffffff & max, 0x80000000 & max, 0xfffffff0 & max, r.int(0, max), 1, 2, 3])!;
}

const MUTATIONS: Record<string, Mutation> = {
  bitflip(r, b) {
    const out = copy(b);
    const n = r.int(1, 8);
    for (let i = 0; i < n; i++) { const o = r.int(0, out.length - 1); out[o] ^= 1 << r.int(0, 7); }
    return { bytes: out, op: `bitflip×${n}` };
  },
  byteset(r, b) {
    const out = copy(b);
    const n = r.int(1, 4);
    for (let i = 0; i < n; i++) out[r.int(0, out.length - 1)] = pick(r, [0, 0xff, 0x7f, 0x80, 0xfe, 0x01, r.int(0, 255)]);
    return { bytes: out, op: `byteset×${n}` };
  },
  truncRandom(r, b) {
    const at = r.int(0, b.length - 1);
    return { bytes: b.subarray(0, at), op: `truncate@${at}` };
  },
  truncBoundary(r, b, s) {
    const all = [...s.meta, ...s.elements];
    if (!all.length) return null;
    const e = pick(r, all);
    const at = pick(r, [e.start, e.start + 2, e.start + 4, e.start + 6, e.lengthOffset + e.lengthSize, e.valueStart, e.end, e.end - 1, e.valueStart + ((e.end - e.valueStart) >> 1)]);
    if (at <= 0 || at >= b.length) return null;
    return { bytes: b.subarray(0, at), op: `truncate@${at}(element ${e.tag.toString(16)})` };
  },
  lengthField(r, b, s) {
    const all = [...(r.next() < 0.15 ? s.meta : []), ...s.elements];
    if (!all.length) return null;
    const e = pick(r, all);
    const out = copy(b);
    const v = hostileLength(r, e, b.length);
    write(out, e.lengthOffset, e.lengthSize, v, e.start < s.datasetStart ? true : s.little);
    return { bytes: out, op: `length(${e.tag.toString(16)}@${e.start})=${v}` };
  },
  removeElement(r, b, s) {
    if (!s.elements.length) return null;
    const e = pick(r, s.elements);
    return { bytes: concat(b.subarray(0, e.start), b.subarray(Math.min(e.end, b.length))), op: `remove(${e.tag.toString(16)}@${e.start})` };
  },
  duplicateElement(r, b, s) {
    if (!s.elements.length) return null;
    const e = pick(r, s.elements);
    const end = Math.min(e.end, b.length);
    const times = r.next() < 0.8 ? 1 : r.int(2, 50);
    const copies = Array.from({ length: times }, () => b.subarray(e.start, end));
    return { bytes: concat(b.subarray(0, end), ...copies, b.subarray(end)), op: `duplicate(${e.tag.toString(16)}@${e.start})×${times}` };
  },
  swapVR(r, b, s) {
    const cands = s.elements.filter((e) => e.vr !== null);
    if (!s.explicit || !cands.length) return null;
    const e = pick(r, cands);
    const vr = pick(r, [...VRS, 'XX', '\0\0']);
    const out = copy(b);
    out[e.start + 4] = vr.charCodeAt(0); out[e.start + 5] = vr.charCodeAt(1);
    return { bytes: out, op: `vr(${e.tag.toString(16)}@${e.start}) ${e.vr}→${vr}` };
  },
  valueEdit(r, b, s) {
    // Image Pixel Module and friends: the attributes readers turn into sizes and loops.
    const interesting = new Set([0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103,
      0x00281050, 0x00281051, 0x00281052, 0x00281053, 0x00281101, 0x00281102, 0x00281103, 0x00281201, 0x00080005, 0x00080016, 0x00080060, 0x00280301, 0x00189004]);
    const cands = s.elements.filter((e) => !e.item && (interesting.has(e.tag) || r.next() < 0.05) && e.end <= b.length && e.end > e.valueStart && !e.undefinedLength);
    if (!cands.length) return null;
    const e = pick(r, cands);
    const out = copy(b);
    const n = e.end - e.valueStart;
    const dv = new DataView(out.buffer);
    const kind = r.int(0, 4);
    if (kind === 0 && n >= 2) dv.setUint16(e.valueStart, pick(r, [0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 64, 0x7fff, 0x8000, 0xffff]), s.little);
    else if (kind === 1 && n >= 4) dv.setUint32(e.valueStart, pick(r, [0, 1, 0x7fffffff, 0xffffffff, 0x10000]), s.little);
    else {
      const text = pick(r, ['-1', '0', '1e308', 'NaN', '-0', '99999999', '1\\2\\3', '\\', ' ', 'YES', 'PALETTE COLOR', 'YBR_FULL_422', 'RGB', 'MONOCHROME1', 'ISO_IR 192', 'ISO 2022 IR 87\\ISO 2022 IR 13', 'SC', 'US', 'XX\0']);
      out.fill(0x20, e.valueStart, e.end);
      out.set(Buffer.from(text.slice(0, n), 'latin1'), e.valueStart);
    }
    return { bytes: out, op: `value(${e.tag.toString(16)}@${e.start}) kind ${kind}` };
  },
  insertUndefinedSequence(r, b, s) {
    const at = pick(r, [s.datasetStart, ...s.elements.map((e) => e.start), b.length]);
    const tag = pick(r, [0x00081140, 0x00082112, 0x00091010, 0x00400275, 0x52009230, 0x00189004]);
    const depth = r.int(1, 3);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < depth; i++) parts.push(header(tag, 'SQ', 0xffffffff, s), item(0xffffffff, s));
    const closing = r.int(0, depth * 2);
    for (let i = 0; i < closing; i++) parts.push(i % 2 ? seqEnd(s) : itemEnd(s));
    return { bytes: concat(b.subarray(0, at), ...parts, b.subarray(at)), op: `insertUndefinedSQ(${tag.toString(16)}@${at}, depth ${depth}, ${closing} delimiters)` };
  },
  deepNesting(r, b, s) {
    const at = pick(r, [s.datasetStart, ...s.elements.filter((e) => e.depth === 0).map((e) => e.start)]);
    const depth = r.int(20, 400);
    const open: Uint8Array[] = [];
    const close: Uint8Array[] = [];
    for (let i = 0; i < depth; i++) { open.push(header(0x00081140, 'SQ', 0xffffffff, s), item(0xffffffff, s)); close.push(itemEnd(s), seqEnd(s)); }
    return { bytes: concat(b.subarray(0, at), ...open, ...(r.next() < 0.7 ? close : []), b.subarray(at)), op: `nest×${depth}@${at}` };
  },
  splice(r, b, s, other) {
    const o = scanElements(other.bytes);
    const cut = s.elements.length && r.next() < 0.6 ? pick(r, s.elements).start : r.int(0, b.length);
    const from = o.elements.length && r.next() < 0.6 ? pick(r, o.elements).start : r.int(0, other.bytes.length);
    return { bytes: concat(b.subarray(0, cut), other.bytes.subarray(from)), op: `splice(${cut}|${other.name}@${from})` };
  },
  pixelFragments(r, b, s) {
    const px = s.elements.find((e) => e.tag === 0x7fe00010 && e.depth === 0 && e.undefinedLength);
    if (!px) return null;
    const frags = s.elements.filter((e) => e.item && e.start > px.start && e.start < px.end);
    if (!frags.length) return null;
    const out = copy(b);
    const f = pick(r, frags);
    const kind = r.int(0, 6);
    if (kind === 0) {
      // The Basic Offset Table: offsets past the data, out of order, or a table of odd length.
      const bot = frags[0]!;
      const n = (bot.end - bot.valueStart) >> 2;
      const dv = new DataView(out.buffer);
      for (let i = 0; i < n; i++) dv.setUint32(bot.valueStart + 4 * i, pick(r, [0, 0xffffffff, 0x7ffffff0, r.int(0, b.length * 2), 3]), true);
      if (n === 0) write(out, bot.lengthOffset, 4, pick(r, [4, 8, 0xfffffff0, 6]), true);
      return { bytes: out, op: `BOT corrupted (${n} entries)` };
    }
    if (kind === 1) { write(out, f.lengthOffset, 4, hostileLength(r, f, b.length), true); return { bytes: out, op: `fragment length @${f.start}` }; }
    if (kind === 2) {
      // Corrupt the codestream itself: its markers and its sizes live in the first bytes.
      const n = r.int(1, 16);
      for (let i = 0; i < n; i++) { const o = r.int(f.valueStart, Math.min(f.end, f.valueStart + 64, b.length) - 1); if (o >= f.valueStart) out[o] = r.int(0, 255); }
      return { bytes: out, op: `fragment head bytes @${f.start}` };
    }
    if (kind === 3) {
      const mid = r.int(f.valueStart, Math.max(f.valueStart, Math.min(f.end, b.length) - 1));
      return { bytes: concat(b.subarray(0, mid), b.subarray(Math.min(f.end, b.length))), op: `fragment cut @${mid}` };
    }
    if (kind === 4) return { bytes: concat(b.subarray(0, px.end - 8 > 0 ? px.end - 8 : px.end)), op: 'sequence delimiter removed' };
    if (kind === 5) {
      const extra = Array.from({ length: r.int(1, 5) }, () => concat(item(r.int(0, 1) * 2, s), new Uint8Array(0)));
      return { bytes: concat(b.subarray(0, f.start), ...extra, b.subarray(f.start)), op: 'empty fragments inserted' };
    }
    const n = r.int(1, 40);
    for (let i = 0; i < n; i++) { const o = r.int(f.valueStart, Math.max(f.valueStart, Math.min(f.end, b.length) - 1)); out[o] ^= 1 << r.int(0, 7); }
    return { bytes: out, op: `fragment bitflips ×${n}` };
  },
  transferSyntax(r, b, s) {
    const tsEl = s.meta.find((e) => e.tag === 0x00020010);
    const ts = pick(r, TRANSFER_SYNTAXES);
    const value = Buffer.from(ts.length % 2 ? ts + '\0' : ts, 'latin1');
    if (!tsEl) return null;
    const h = Buffer.from(b.subarray(tsEl.start, tsEl.valueStart));
    h.writeUInt16LE(value.length, 6);
    let out = concat(b.subarray(0, tsEl.start), h, value, b.subarray(tsEl.end));
    const group = s.meta.find((e) => e.tag === 0x00020000);
    if (group && r.next() < 0.8) {
      out = copy(out);
      new DataView(out.buffer).setUint32(group.valueStart, new DataView(b.buffer, b.byteOffset).getUint32(group.valueStart, true) + value.length - (tsEl.end - tsEl.valueStart), true);
    }
    return { bytes: out, op: `transfer syntax ${s.ts ?? '(none)'} → ${ts || '(empty)'}` };
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** A generator for mutant `index` of campaign `seed`: each mutant repeats alone. */
export function mutantRandom(seed: number, index: number): Random {
  const mixed = mulberry32((seed * 0x9e3779b1) ^ (index * 0x85ebca6b))();
  return seededRandom(Math.floor(mixed * 2 ** 31) || 1);
}

/** Mutant `index` of campaign `seed` over `seeds`: one to three mutations of one seed file. */
export function mutantAt(seeds: readonly SeedFile[], seed: number, index: number): Mutant & { from: string } {
  const r = mutantRandom(seed, index);
  const base = seeds[r.int(0, seeds.length - 1)]!;
  let bytes = base.bytes;
  const ops: string[] = [];
  const rounds = r.next() < 0.7 ? 1 : r.int(2, 3);
  for (let round = 0, tries = 0; round < rounds && tries < 20; tries++) {
    if (bytes.length === 0) break;
    const name = pick(r, MUTATION_NAMES);
    const other = seeds[r.int(0, seeds.length - 1)]!;
    const got = MUTATIONS[name]!(r, bytes, scanElements(bytes), other);
    if (!got) continue;
    bytes = got.bytes;
    ops.push(`${name}: ${got.op}`);
    round++;
  }
  return { bytes, ops, from: base.name };
}

// ---------------------------------------------------------------------------------------------
// The oracle

/** The archive's typed errors: what a reader may throw for a bad file. */
export function isTypedError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof DicomParseError || e instanceof PixelDataError || e instanceof UnsupportedTransferSyntaxError) return true;
  if (e instanceof ImageDecodeError) return isTypedError(e.cause);
  return false;
}

export interface Fault {
  target: string;
  /** The class and message of what escaped, or what the oracle missed. */
  what: string;
  stack?: string;
}

export interface MutantReport { faults: Fault[]; cpuMs: number; verdicts: Record<string, string>; /** CPU milliseconds per target. */ cpu: Record<string, number> }

/** The tags src/ingest/cpuWorker.ts copies into the catalogue's fields. */
const CATALOGUE_TAGS = ['0020000D', '0020000E', '00080018', '00080016', '00080060', '00180015', '00081030', '0008103E', '00200011', '00200013', '00280010', '00280011', '00280008', '00280100', '00080020', '00101010'];

const CTX: DeidContext = { secret: 'fuzz-secret-0123456789abcdef', individualAccession: 'I000777', dateOffsetDays: 11, options: OBIA_DEFAULT_OPTIONS };

function nameOf(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

/**
 * Drives one file through every per-file reader an upload meets, as the ingest worker calls them
 * (src/ingest/cpuWorker.ts and products/*): screening, identification, de-identification and each
 * product of its output, then the preview render and the retrieval decode of the raw bytes.
 */
export async function driveMutant(bytes: Uint8Array): Promise<MutantReport> {
  const faults: Fault[] = [];
  const verdicts: Record<string, string> = {};
  const cpu: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const call = async <T>(target: string, fn: () => Promise<T> | T, allowed: (e: unknown) => boolean = isTypedError): Promise<T | undefined> => {
    const t0 = process.cpuUsage();
    try {
      const v = await fn();
      verdicts[target] = 'ok';
      return v;
    } catch (e) {
      verdicts[target] = nameOf(e);
      if (!allowed(e)) faults.push({ target, what: `${nameOf(e)}: ${(e as Error)?.message ?? String(e)}`.slice(0, 300), stack: (e as Error)?.stack ?? (e instanceof Error ? undefined : `thrown ${typeof e}: ${String(e)}`) });
      return undefined;
    } finally {
      const t = process.cpuUsage(t0);
      cpu[target] = (t.user + t.system) / 1000;
    }
  };
  const never = () => false;

  // Screening: as ingest calls it (never throws), and with every frame kind decoded.
  await call('qc.checkFile(compressed)', () => checkFile(bytes, { decodePixels: 'compressed' }), never);
  await call('qc.checkFile(full)', () => checkFile(bytes, { decodePixels: true }), never);
  // The front door, both ways readers use it.
  await call('dicom.readDicom(headerOnly)', () => readDicom(bytes, { headerOnly: true }));
  await call('dicom.readDicom', () => readDicom(bytes));
  await call('deid.readSourceIdentity', () => readSourceIdentity(bytes));
  const result = await call('deid.deidentify', () => deidentify(bytes, CTX));
  if (result) {
    // De-identification never writes a file the archive cannot read.
    const reread = await call('deid output re-read', () => readDicom(result.output), never);
    await call('deid output re-read(headerOnly)', () => readDicom(result.output, { headerOnly: true }), never);
    // The products, from the header de-identification returned (cpuWorker.ts deriveSource).
    const h = result.header ?? (reread ? (() => {
      const file = readDicom(result.output, { headerOnly: true });
      const pixel = file.headerOnly ? file.framed.pixelElement : null;
      return { dict: file.message.dict, transferSyntaxUid: file.framed.transferSyntaxUid, pixelValue: pixel?.value ?? null, pixelVr: 'OW', encapsulated: file.framed.pixelDataLength === -1 };
    })() : null);
    if (h) {
      // The catalogue's fields, as the worker takes them (scalar) and the catalogue stage reads them.
      await call('catalogue.fields', () => {
        const fields = CATALOGUE_TAGS.map((tag) => scalar(h.dict[tag]?.Value));
        return fields.map((f) => [text(f), int(f), isoDate(f), ageYears(f), isUid(text(f) ?? '')]);
      }, never);
      await call('product.dicomJson', () => JSON.stringify(toDicomJson(h.dict)), never);
      await call('product.census', () => {
        const c = new TagCensus({ options: CTX.options });
        c.addDataset(h.pixelValue ? { ...h.dict, '7FE00010': { vr: h.pixelVr, Value: [h.pixelValue] } } : h.dict);
        return c.toJSON();
      }, never);
      const display = await call('product.display', async (): Promise<Image8> => {
        if (h.pixelValue && !h.encapsulated && h.transferSyntaxUid !== EXPLICIT_BE) return displayParsed(imageFromHeader(h.transferSyntaxUid, h.dict, h.pixelValue));
        return toDisplay8(await decodeFrame(result.output));
      });
      if (display) {
        await call('product.thumbnail', () => thumbnailOfDisplay(display, 128), never);
        await call('product.hashCode', () => preprocess(grayOf(display)), never);
      }
    }
  }
  // What curators' previews and similarImages queries do with a file.
  await call('imaging.renderThumbnail', () => renderThumbnail(bytes));
  await call('retrieval.decodeImage', () => decodeImage(bytes));
  const u = process.cpuUsage(cpu0);
  return { faults, cpuMs: (u.user + u.system) / 1000, verdicts, cpu };
}


// ---------------------------------------------------------------------------------------------
// A campaign, run offline: node dist/test/support/fuzz.js --seed 1 --count 2000 [--start 0]
// [--max-bytes N]. The mutant in progress is written to $FUZZ_PROGRESS (default
// /tmp/obia-fuzz-progress), so one that hangs or kills the process is named by the file.

export interface CampaignSummary { seed: number; mutants: number; cpuMs: number; worst: { index: number; cpuMs: number; from: string; ops: string[] }; faults: number }

export async function campaign(opts: { seed: number; count: number; start?: number; maxBytes?: number; cpuBoundMs?: number; log?: (line: string) => void }): Promise<CampaignSummary> {
  const seeds = loadSeeds({ maxBytes: opts.maxBytes });
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const progress = process.env.FUZZ_PROGRESS ?? '/tmp/obia-fuzz-progress';
  const bound = opts.cpuBoundMs ?? 2000;
  const start = opts.start ?? 0;
  let total = 0, faults = 0;
  let worst = { index: -1, cpuMs: 0, from: '', ops: [] as string[] };
  const seen = new Set<string>();
  for (let i = start; i < start + opts.count; i++) {
    const m = mutantAt(seeds, opts.seed, i);
    fs.writeFileSync(progress, `${opts.seed} ${i} ${m.from} ${m.ops.join(' | ')}\n`);
    const report = await driveMutant(m.bytes);
    total += report.cpuMs;
    if (report.cpuMs > worst.cpuMs) worst = { index: i, cpuMs: report.cpuMs, from: m.from, ops: m.ops };
    if (report.cpuMs > bound) {
      const slowest = Object.entries(report.cpu).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([t, ms]) => `${t} ${ms.toFixed(0)} ms`).join(', ');
      report.faults.push({ target: 'cpu', what: `${report.cpuMs.toFixed(0)} ms of CPU (bound ${bound}): ${slowest}` });
    }
    for (const f of report.faults) {
      faults++;
      // One line per distinct fault (by target, class and the first frame of its stack).
      const origin = (f.stack ?? '').split('\n').find((l) => /^\s+at /.test(l))?.trim() ?? '';
      const key = `${f.target}|${f.what.split(':')[0]}|${origin}`;
      if (seen.has(key) && f.target !== 'cpu') continue;
      seen.add(key);
      log(`FAULT seed=${opts.seed} index=${i} from=${m.from} size=${m.bytes.length} target=${f.target}\n  ops: ${m.ops.join(' | ')}\n  ${f.what}\n  ${(f.stack ?? '').split('\n').slice(1, 7).join('\n  ')}`);
    }
    if ((i - start + 1) % 500 === 0) log(`progress seed=${opts.seed} ${i - start + 1}/${opts.count} cpu=${(total / 1000).toFixed(1)}s worst=${worst.cpuMs.toFixed(0)}ms faults=${faults}`);
  }
  const summary = { seed: opts.seed, mutants: opts.count, cpuMs: total, worst, faults };
  log(`summary ${JSON.stringify(summary)}`);
  return summary;
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  // dcmjs logs what it reads; the worker silences it the same way.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../src/dicom/index.js').silenceDcmjs();
  void campaign({ seed: arg('seed', 1), count: arg('count', 1000), start: arg('start', 0), maxBytes: arg('max-bytes', Infinity), cpuBoundMs: arg('cpu-bound', 2000) })
    .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
