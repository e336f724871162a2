import { inflateRawSync } from 'node:zlib';
import { dictionaryVr } from './dcmjs';
import { DicomParseError } from './errors';
import { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from './transferSyntax';
import { stripPadding } from './values';

// dcmjs trusts declared lengths (a truncated file parses "fine", minus data) and can
// loop forever on some malformed sequences (https://github.com/dcmjs-org/dcmjs/issues/326,
// https://github.com/dcmjs-org/dcmjs/issues/125). So before dcmjs sees a byte, this walker
// checks the whole element structure and rebuilds a canonical Part 10 buffer.


const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));
const LONG_VRS = new Set('OB OD OF OL OV OW SQ SV UC UN UR UT UV'.split(' '));
const UNDEFINED = 0xffffffff;
/**
 * The VRs dcmjs reads as arrays of fixed-size numbers ('xs' is its dictionary's "US or SS"),
 * by the size of one. dcmjs reads ceil(length / size) numbers, past the value's end when the
 * length is not a multiple, and goes on reading from there: every element after it is misread.
 * A StudyInstanceUID sent as SL with its 46 bytes made it invent an element that dcmjs then
 * wrote as 775 MB, in 37 s, from a 2.3 KB upload (test/dicom/fuzz).
 */
const NUMBER_SIZES: Record<string, number> = { US: 2, SS: 2, xs: 2, UL: 4, SL: 4, FL: 4, AT: 4, FD: 8, SV: 8, UV: 8 };
const MAX_DEPTH = 32;
/**
 * Data elements a file may hold, nested ones included. dcmjs spends about 6 µs and 0.9 KB of heap
 * on each element it reads: 4.9 million 10-byte elements packed into a 49 MB file took 44 s and
 * 3.8 GB of heap to parse (measured), so a count bounded only by a constant let a small upload
 * occupy a worker for most of a minute and exhaust its memory. The bound grows with the file's
 * size — a base no ordinary header comes near, plus one element per KiB — so what dcmjs spends
 * stays proportional to the bytes received, while an enhanced multi-frame file (per-frame
 * functional groups can run to hundreds of thousands of elements, behind pixels to match) reads.
 */
const BASE_ELEMENTS = 200_000;
const MAX_ELEMENTS = 5_000_000;
/** A Deflated Explicit VR dataset may inflate to this many times its size (a floor of 64 MiB, a ceiling of 1 GiB). */
const MAX_INFLATION = 64;

/** The most data elements `frame` accepts in a file of `bytes` bytes. */
export function elementBudget(bytes: number): number {
  return Math.min(MAX_ELEMENTS, BASE_ELEMENTS + Math.floor(bytes / 1024));
}

export interface FramedFile {
  /** Preamble + DICM + minimal meta + dataset, in a form dcmjs reads without surprises (assembled on first use). */
  readonly canonical: ArrayBuffer;
  /**
   * `canonical` up to a top-level Pixel Data that ends the dataset, assembled without it; null
   * when no Pixel Data ends the dataset. Most readers need the header only, and copying
   * megabytes of pixels is left to those that do not.
   */
  canonicalHeader(): ArrayBuffer | null;
  /** The transfer syntax of the dataset inside `canonical`. */
  transferSyntaxUid: string;
  /** Transfer syntax the source file declared (or that was inferred). */
  sourceTransferSyntaxUid: string;
  sourceMeta: Record<string, string>;
  /** Top-level elements dropped before parsing because dcmjs cannot read them (all are removed by the profile anyway). */
  dropped: { tag: string; why: string }[];
  hadFileMeta: boolean;
  /** Declared length of top-level Pixel Data: null when absent, -1 when encapsulated (undefined length). */
  pixelDataLength: number | null;
  /** Top-level Pixel Data as views of the input (no copy): the whole element, and its value. */
  pixelElement: { bytes: Uint8Array; value: Uint8Array } | null;
  /** Data elements the file holds, nested ones included. */
  elements: number;
  /**
   * A top-level element's value as text (trailing padding removed), read from the bytes without
   * dcmjs: for a caller that needs a UID or two of a file, not its dataset. Null when absent or
   * of undefined length.
   */
  topText(tag: string): string | null;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) as ArrayBuffer;
}

interface TopElement { tag: string; vr: string | null; start: number; valueStart: number; length: number; end: number; undefinedLength: boolean }

/** Elements seen so far and the most allowed: one object for a whole file, shared by the walks of its items. */
interface Tally { count: number; max: number }

interface Walk { buf: Uint8Array; view: DataView; little: boolean; explicit: boolean; tally: Tally }

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function tagName(group: number, element: number): string {
  return `(${hex4(group)},${hex4(element)})`;
}

function fail(reason: string): never {
  throw new DicomParseError(reason);
}

function readTag(w: Walk, offset: number, end: number): [number, number] {
  if (offset + 8 > end) fail(`truncated: element header at offset ${offset} runs past the end of its container`);
  return [w.view.getUint16(offset, w.little), w.view.getUint16(offset + 2, w.little)];
}

/**
 * Walks the items of a sequence: of an undefined-length one until its Sequence Delimitation Item
 * (`definedEnd` null), of a defined-length one until `definedEnd`. Every item's elements are
 * walked, defined-length items too: dcmjs parses them all, so each counts and is checked. The
 * items of encapsulated Pixel Data (`fragments`) are bytes, not datasets, and are only bounded.
 */
function walkItems(w: Walk, offset: number, end: number, depth: number, itemsImplicit: boolean, owner: string, definedEnd: number | null = null, fragments = false): number {
  const inner: Walk = itemsImplicit && w.explicit ? { ...w, explicit: false } : w;
  const limit = definedEnd ?? end;
  // Encapsulated pixel data: the Basic Offset Table (the first item) and where each fragment starts, relative to the first.
  let table: { at: number; length: number } | null = null;
  const starts = new Set<number>();
  for (;;) {
    if (offset === definedEnd) return offset;
    const [group, element] = readTag(w, offset, limit);
    const length = w.view.getUint32(offset + 4, w.little);
    offset += 8;
    if (definedEnd === null && group === 0xfffe && element === 0xe0dd) {
      // PS3.5 7.5: a delimiter's length is zero. dcmjs refuses one that is not, but only when it
      // reads that sequence: the header-only read skipped Pixel Data's, de-identification copied
      // it, and wrote a file the archive's full read refused (test/dicom/fuzz).
      if (length !== 0) fail(`malformed sequence ${owner}: its Sequence Delimitation Item has a length of ${length}, not 0`);
      if (table) checkOffsetTable(w, table, starts, owner);
      return offset;
    }
    if (group !== 0xfffe || element !== 0xe000) {
      fail(`malformed sequence ${owner}: expected an item tag at offset ${offset - 8}, found ${tagName(group, element)}`);
    }
    count(w);
    if (fragments) {
      if (length === UNDEFINED) fail(`malformed encapsulated ${owner}: a fragment of undefined length at offset ${offset - 8}`);
      if (table === null) table = { at: offset, length };
      else starts.add(offset - 8 - (table.at + table.length));
    }
    if (length === UNDEFINED) {
      offset = walkDataset(inner, offset, limit, depth + 1, true);
    } else {
      const itemEnd = offset + length;
      if (itemEnd > limit) fail(`truncated: an item of ${owner} declares ${length} bytes but only ${limit - offset} remain`);
      offset = fragments ? itemEnd : walkDataset(inner, offset, itemEnd, depth + 1, false);
    }
  }
}

/**
 * The Basic Offset Table of encapsulated pixel data (PS3.5 A.4): 4 bytes an entry, the first 0,
 * each the start of a fragment item, in order. dcmjs splits frames by it, so a full read refuses
 * a table that misses the items; the header-only read never looks at it, and de-identification
 * copied such Pixel Data into a file the archive's full read refused (test/dicom/fuzz).
 */
function checkOffsetTable(w: Walk, table: { at: number; length: number }, starts: Set<number>, owner: string): void {
  if (table.length % 4 !== 0) fail(`malformed encapsulated ${owner}: its Basic Offset Table has ${table.length} bytes, not a multiple of 4`);
  let previous = -1;
  for (let i = 0; i < table.length / 4; i++) {
    const offset = w.view.getUint32(table.at + 4 * i, w.little);
    if ((i === 0 && offset !== 0) || offset <= previous || !starts.has(offset)) {
      fail(`malformed encapsulated ${owner}: entry ${i} of its Basic Offset Table (${offset}) is not the start of a fragment after the previous entry's`);
    }
    previous = offset;
  }
}

function count(w: Walk): void {
  if (++w.tally.count > w.tally.max) fail(`more than ${w.tally.max} data elements (at most ${BASE_ELEMENTS} and one per KiB of the file)`);
}

/** Walks a dataset (or an undefined-length item) and returns the offset after it. */
function walkDataset(w: Walk, offset: number, end: number, depth: number, inItem: boolean, onTop?: (e: TopElement) => void): number {
  if (depth > MAX_DEPTH) fail(`sequences nested deeper than ${MAX_DEPTH} levels`);
  while (offset < end) {
    count(w);
    const start = offset;
    const [group, element] = readTag(w, offset, end);
    if (group === 0xfffe) {
      if (inItem && element === 0xe00d) {
        if (w.view.getUint32(offset + 4, w.little) !== 0) fail(`malformed item: its Item Delimitation Item at offset ${offset} has a non-zero length`);
        return offset + 8;
      }
      fail(`unexpected delimiter ${tagName(group, element)} at offset ${offset}`);
    }
    let vr: string | null = null;
    let length: number;
    if (w.explicit) {
      vr = String.fromCharCode(w.buf[offset + 4], w.buf[offset + 5]);
      if (!VRS.has(vr)) fail(`invalid VR "${vr.replace(/[^\x20-\x7e]/g, '?')}" for ${tagName(group, element)} at offset ${offset}`);
      if (LONG_VRS.has(vr)) {
        if (offset + 12 > end) fail(`truncated: element ${tagName(group, element)} header runs past the end`);
        length = w.view.getUint32(offset + 8, w.little);
        offset += 12;
      } else {
        length = w.view.getUint16(offset + 6, w.little);
        offset += 8;
      }
    } else {
      length = w.view.getUint32(offset + 4, w.little);
      offset += 8;
    }
    const valueStart = offset;
    const undefinedLength = length === UNDEFINED;
    // Top-level ones are dropped by frame(); deeper down dcmjs would misread them (and can spin).
    if (depth > 0 && vr === 'UN' && group % 2 === 0 && dictionaryVr(hex4(group) + hex4(element)) === 'SQ') {
      fail(`nested sequence ${tagName(group, element)} is encoded as UN, which the parser cannot read safely`);
    }
    if (undefinedLength) {
      if (vr !== null && vr !== 'SQ' && vr !== 'UN' && vr !== 'OB' && vr !== 'OW') {
        fail(`element ${tagName(group, element)} with VR ${vr} has undefined length`);
      }
      // OB/OW (and Pixel Data in implicit VR) of undefined length are encapsulated pixel fragments.
      const fragments = vr === 'OB' || vr === 'OW' || (vr === null && group === 0x7fe0 && element === 0x0010);
      offset = walkItems(w, offset, end, depth + 1, vr === 'UN', tagName(group, element), null, fragments);
    } else {
      if (offset + length > end) {
        fail(`truncated: element ${tagName(group, element)} declares ${length} bytes but only ${end - offset} remain`);
      }
      const numeric = vr ?? (group === 0xfffe ? undefined : dictionaryVr(hex4(group) + hex4(element)));
      const size = numeric === undefined ? undefined : NUMBER_SIZES[numeric];
      if (size !== undefined && length % size !== 0) {
        fail(`element ${tagName(group, element)} with VR ${numeric === 'xs' ? 'US or SS' : numeric} has a length of ${length} bytes, not a multiple of ${size}`);
      }
      // A defined-length sequence is walked like an undefined-length one: dcmjs reads its items.
      const sequence = vr === 'SQ' || (vr === null && dictionaryVr(hex4(group) + hex4(element)) === 'SQ');
      offset = sequence ? walkItems(w, offset, end, depth + 1, false, tagName(group, element), offset + length) : offset + length;
    }
    onTop?.({ tag: hex4(group) + hex4(element), vr, start, valueStart, length: undefinedLength ? -1 : length, end: offset, undefinedLength });
  }
  if (inItem) fail('truncated: an undefined-length item has no Item Delimitation Item');
  return offset;
}

function looksExplicit(buf: Uint8Array, offset: number): boolean {
  if (offset + 6 > buf.length) return false;
  return VRS.has(String.fromCharCode(buf[offset + 4], buf[offset + 5]));
}

interface MetaScan { end: number; values: Record<string, string> }

/** File Meta is always Explicit VR Little Endian, group 0002, no sequences. */
function scanMeta(buf: Uint8Array, view: DataView, offset: number): MetaScan {
  const values: Record<string, string> = {};
  while (offset + 8 <= buf.length && view.getUint16(offset, true) === 0x0002) {
    const element = view.getUint16(offset + 2, true);
    const vr = String.fromCharCode(buf[offset + 4], buf[offset + 5]);
    if (!VRS.has(vr)) fail(`invalid VR in File Meta Information at offset ${offset}`);
    let length: number;
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > buf.length) fail('truncated File Meta Information');
      length = view.getUint32(offset + 8, true);
      offset += 12;
    } else {
      length = view.getUint16(offset + 6, true);
      offset += 8;
    }
    if (length === UNDEFINED || offset + length > buf.length) fail('truncated File Meta Information');
    if (vr === 'UI' || vr === 'SH' || vr === 'AE') {
      values['0002' + hex4(element)] = stripPadding(Buffer.from(buf.subarray(offset, offset + length)).toString('latin1'));
    }
    offset += length;
  }
  return { end: offset, values };
}

function encodeShort(tag: string, vr: string, value: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  header.writeUInt16LE(parseInt(tag.slice(4, 8), 16), 2);
  header.write(vr, 4, 'latin1');
  header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** A short element's value as text, its trailing padding (NUL or space) removed. */
function valueText(body: Uint8Array, e: TopElement): string {
  return stripPadding(Buffer.from(body.subarray(e.valueStart, e.end)).toString('latin1'));
}

function padEven(s: string, pad: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'latin1')]) : b;
}

/** Names devices write for a character set instead of its DICOM defined term (IANA and codec names). */
const CHARSET_NAMES: Record<string, string> = {
  'UTF-8': 'ISO_IR 192', UTF8: 'ISO_IR 192', 'ISO-8859-1': 'ISO_IR 100', 'ISO8859-1': 'ISO_IR 100', LATIN1: 'ISO_IR 100', 'LATIN-1': 'ISO_IR 100',
  'ISO-8859-2': 'ISO_IR 101', 'ISO-8859-3': 'ISO_IR 109', 'ISO-8859-4': 'ISO_IR 110', 'ISO-8859-5': 'ISO_IR 144', 'ISO-8859-6': 'ISO_IR 127',
  'ISO-8859-7': 'ISO_IR 126', 'ISO-8859-8': 'ISO_IR 138', 'ISO-8859-9': 'ISO_IR 148', 'TIS-620': 'ISO_IR 166', SHIFT_JIS: 'ISO_IR 13',
  'SHIFT-JIS': 'ISO_IR 13', US_ASCII: 'ISO_IR 6', 'US-ASCII': 'ISO_IR 6', ASCII: 'ISO_IR 6',
};

/**
 * A Specific Character Set term as DICOM defines it, from the ways devices misspell it: "ISO_IR100",
 * "ISO-IR 100", "ISO IR 100", "ISO2022 IR 87", "utf-8" (the corrections pydicom makes, for the same
 * files). dcmjs knows only the defined terms and refuses the whole file for any other, which the
 * archive would have quarantined as unparseable; an unknown term stays as it is (and is refused).
 */
function charsetTerm(term: string): string {
  const t = term.trim();
  const named = CHARSET_NAMES[t.toUpperCase()];
  if (named) return named;
  const iso2022 = /^ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)$/i.exec(t);
  if (iso2022) return `ISO 2022 IR ${iso2022[1]}`;
  const iso = /^ISO[ _-]?IR[ _-]?(\d+)$/i.exec(t);
  return iso ? `ISO_IR ${iso[1]}` : t;
}

/**
 * The Specific Character Set value dcmjs can read, or null when `raw` already is one. dcmjs
 * decodes text with a single decoder chosen from the first value and refuses several values. ISO
 * 2022 code extensions are switched by escape sequences that the matching WHATWG decoder (e.g.
 * iso-2022-jp) understands, so the set is collapsed to the one term that names the non-ASCII
 * repertoire; each term is first corrected (charsetTerm).
 */
function canonicalCharset(raw: string): string | null {
  const terms = raw.split('\\').map(charsetTerm);
  const nonAscii = terms.find((t) => t !== '' && t !== 'ISO 2022 IR 6' && t !== 'ISO_IR 6');
  const value = terms.length < 2 ? terms[0]! : nonAscii ?? 'ISO_IR 6';
  return value === raw ? null : value;
}

interface OpenedDataset { body: Uint8Array; ts: string; sourceTs: string; sourceMeta: Record<string, string>; hadFileMeta: boolean }

/**
 * The dataset of a file, past its preamble and File Meta (whichever of the forms PS3.10 and its
 * predecessors wrote), with its transfer syntax; a Deflated one inflated, within bounds.
 */
function openDataset(input: Uint8Array): OpenedDataset {
  if (!(input instanceof Uint8Array)) fail('input is not a byte array');
  if (input.length === 0) fail('empty file (0 bytes)');
  const buf = input;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ascii = (o: number, n: number) => (o + n <= buf.length ? Buffer.from(buf.subarray(o, o + n)).toString('latin1') : '');

  let datasetStart: number;
  let sourceMeta: Record<string, string> = {};
  let hadFileMeta = false;
  if (ascii(128, 4) === 'DICM') {
    const meta = scanMeta(buf, view, 132);
    if (meta.end === 132) fail('no File Meta Information after the DICM prefix');
    sourceMeta = meta.values;
    datasetStart = meta.end;
    hadFileMeta = true;
  } else if (ascii(0, 4) === 'DICM') {
    const meta = scanMeta(buf, view, 4);
    sourceMeta = meta.values;
    datasetStart = meta.end;
    hadFileMeta = meta.end > 4;
  } else if (buf.length >= 8 && view.getUint16(0, true) === 0x0002 && looksExplicit(buf, 0)) {
    const meta = scanMeta(buf, view, 0);
    sourceMeta = meta.values;
    datasetStart = meta.end;
    hadFileMeta = true;
  } else {
    // A bare dataset (no preamble, no meta) is still DICOM if it starts with a plausible
    // low even group: PS3.10 predecessors wrote such files, and rtstruct.dcm is one.
    const group = buf.length >= 8 ? view.getUint16(0, true) : -1;
    if (!(group === 0x0008 || group === 0x0004 || group === 0x0010)) {
      fail(buf.length >= 132
        ? 'not a DICOM file: no "DICM" prefix at offset 128 and the data does not start with a data element'
        : `not a DICOM file: ${buf.length} bytes without a DICM prefix or a recognisable data element`);
    }
    datasetStart = 0;
  }

  let ts = sourceMeta['00020010'];
  if (!ts) ts = looksExplicit(buf, datasetStart) ? EXPLICIT_LE : IMPLICIT_LE;
  const sourceTs = ts;
  let body: Uint8Array = buf.subarray(datasetStart);
  if (ts === DEFLATED_LE) {
    body = inflateBounded(body);
    // dcmjs inflates on read but writes uncompressed bytes under the deflate UID; the
    // content is the same Explicit VR LE dataset, so that is what we declare.
    ts = EXPLICIT_LE;
  }
  if (body.length === 0) fail('the file has no dataset after the File Meta Information');
  return { body, ts, sourceTs, sourceMeta, hadFileMeta };
}

/** The whole of a Deflated dataset; bounded, since a deflated run of zeros inflates a thousandfold. */
function inflateBounded(deflated: Uint8Array): Uint8Array {
  const maxOutputLength = Math.min(1 << 30, Math.max(64 << 20, deflated.length * MAX_INFLATION));
  try {
    return inflateRawSync(deflated, { maxOutputLength });
  } catch (e) {
    fail((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ? `deflated dataset inflates past ${maxOutputLength} bytes (${MAX_INFLATION} times the file, at least 64 MiB)`
      : 'deflated dataset could not be inflated');
  }
}

export interface FrameOptions {
  /**
   * The most data elements to accept, nested ones included (default: `elementBudget` of the
   * input's size). A caller reading many files in one request shares one budget among them.
   */
  maxElements?: number;
}

export function frame(input: Uint8Array, opts: FrameOptions = {}): FramedFile {
  const { body, ts, sourceTs, sourceMeta, hadFileMeta } = openDataset(input);
  const little = ts !== EXPLICIT_BE;
  const explicit = ts !== IMPLICIT_LE;
  const bview = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const tops: TopElement[] = [];
  const walk: Walk = { buf: body, view: bview, little, explicit, tally: { count: 0, max: opts.maxElements ?? elementBudget(input.length) } };
  if (explicit && !looksExplicit(body, 0)) fail(`transfer syntax ${ts} says explicit VR but the dataset is not explicit VR`);
  walkDataset(walk, 0, body.length, 0, false, (e) => tops.push(e));
  if (tops.length === 0) fail('empty dataset');

  // Undefined-length private or UN elements defeat dcmjs (it misreads or fails on them), and
  // the profile removes them anyway unless safe-listed; standard SQs sent as UN make dcmjs
  // re-read implicit items as explicit and spin. Dropping them here keeps dcmjs on safe ground.
  const dropped: { tag: string; why: string }[] = [];
  const parts: Uint8Array[] = [];
  const tsValue = padEven(ts, '\0');
  const tsElement = encodeShort('00020010', 'UI', tsValue);
  let pixelElement: FramedFile['pixelElement'] = null;
  let trailingPixelPart = -1;
  for (const e of tops) {
    const group = parseInt(e.tag.slice(0, 4), 16);
    const isPrivate = group % 2 === 1;
    let why: string | null = null;
    if (e.undefinedLength && (isPrivate || e.vr === 'UN') && e.tag !== '7FE00010') why = 'undefined-length private/UN element dcmjs cannot parse';
    else if (e.vr === 'UN' && !isPrivate && dictionaryVr(e.tag) === 'SQ') why = 'sequence encoded as UN';
    else if (!isPrivate && e.vr === null && e.undefinedLength && dictionaryVr(e.tag) !== 'SQ' && e.tag !== '7FE00010') why = 'undefined-length element that is not a sequence';
    if (why) {
      dropped.push({ tag: e.tag, why });
      continue;
    }
    if (e.tag === '00080005' && !e.undefinedLength && little) {
      const raw = valueText(body, e);
      const canonical = canonicalCharset(raw);
      if (canonical !== null) {
        const value = padEven(canonical, ' ');
        if (explicit) {
          parts.push(encodeShort('00080005', 'CS', value));
        } else {
          const header = Buffer.alloc(8);
          header.writeUInt16LE(0x0008, 0);
          header.writeUInt16LE(0x0005, 2);
          header.writeUInt32LE(value.length, 4);
          parts.push(header, value);
        }
        continue;
      }
    }
    if (e.tag === '7FE00010') {
      pixelElement = { bytes: body.subarray(e.start, e.end), value: body.subarray(e.valueStart, e.end) };
      if (e === tops.at(-1)) trailingPixelPart = parts.length;
    }
    parts.push(body.subarray(e.start, e.end));
  }
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(tsElement.length, 8);
  const prefix = [Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, tsElement];
  const assemble = (partCount: number) => toArrayBuffer(Buffer.concat([...prefix, ...parts.slice(0, partCount)]));
  let whole: ArrayBuffer | null = null;
  const pixel = tops.find((e) => e.tag === '7FE00010');
  return {
    get canonical() { return (whole ??= assemble(parts.length)); },
    canonicalHeader: () => (trailingPixelPart < 0 ? null : assemble(trailingPixelPart)),
    transferSyntaxUid: ts, sourceTransferSyntaxUid: sourceTs, sourceMeta, dropped, hadFileMeta, pixelDataLength: pixel ? pixel.length : null, pixelElement,
    elements: walk.tally.count,
    topText(tag) {
      const e = tops.find((t) => t.tag === tag);
      return e && !e.undefinedLength ? valueText(body, e) : null;
    },
  };
}
