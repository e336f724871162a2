// dcmjs ships no type declarations. A module-wide `declare module 'dcmjs'` would clash with any
// other declaration of it, so this file types the slice of dcmjs the archive uses, once; every
// module that touches dcmjs imports it from here.
export interface DicomElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown;
  InlineBinary?: string;
  BulkDataURI?: string;
}
/** A dataset in dcmjs's tag-keyed form ("ggggeeee" → element). */
export type DicomDataset = Record<string, DicomElement>;

export interface DicomDictInstance {
  meta: DicomDataset;
  dict: DicomDataset;
  write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
}

interface DcmjsLogger { getLevel(): number; setLevel(level: number | string): void }

interface DcmjsModule {
  data: {
    WriteBufferStream: new (defaultSize: number, littleEndian: boolean) => { getBuffer(): ArrayBuffer };
    DicomMessage: {
      write(dataset: DicomDataset, stream: unknown, syntax: string, options?: { allowInvalidVRLength?: boolean }): number;
      /** The values write() puts in the file: the raw value read, if the Value is that value formatted, else the Value. */
      _getTagWriteValues(vr: string, element: DicomElement): unknown;
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; noCopy?: boolean; forceStoreRaw?: boolean }): DicomDictInstance;
    };
    DicomDict: new (meta: DicomDataset) => DicomDictInstance;
    DicomMetaDictionary: {
      naturalizeDataset(dataset: DicomDataset): Record<string, unknown>;
      denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
      dictionary: Record<string, { tag: string; vr: string; name: string } | undefined>;
      /** Keyword → entry (its tag written "(GGGG,EEEE)"). */
      nameMap: Record<string, { tag: string } | undefined>;
    };
  };
  log: DcmjsLogger & { getLogger(name: string): DcmjsLogger };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const dcmjs = require('dcmjs') as DcmjsModule;

interface SplitDataView { buffers: (ArrayBuffer | null)[]; views: (DataView | null)[]; offsets: number[]; lengths: number[]; byteLength: number; defaultSize: number; checkSize(end: number): void }

/**
 * dcmjs's write streams (SplitDataView, dcmjs 0.51) grow by chunks of a fixed size, 256 bytes for
 * every element it writes, and find the chunk of each byte they write by walking the chunks from
 * the first (findStart), so writing an element costs the square of its size: a CS value of 872 KB
 * (an implicit VR length overwritten, test/dicom/fuzz) took 2.8 s to write, 10 MB would take
 * minutes, and large sequences (enhanced multi-frame functional groups) paid it too. Here a stream
 * grows by at least its own size, so it holds O(log n) chunks; the bytes written are the same, only
 * the chunking differs. Patched on the prototype, as dcmjs creates these streams internally.
 */
const splitDataView = Object.getPrototypeOf((new dcmjs.data.WriteBufferStream(16, true) as unknown as { view: SplitDataView }).view) as SplitDataView;
splitDataView.checkSize = function checkSize(this: SplitDataView, end: number): void {
  if (end <= this.byteLength) return;
  const size = Math.max(this.defaultSize, this.byteLength, end - this.byteLength);
  const buffer = new ArrayBuffer(size);
  this.buffers.push(buffer);
  this.views.push(new DataView(buffer));
  this.offsets.push(this.byteLength);
  this.lengths.push(size);
  this.byteLength += size;
};

/** dcmjs's deepEqual, in linear time: the same answer, but a Set of the second object's keys instead of `keys2.includes` for each key. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keysA = Object.keys(a), keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const inB = new Set(keysB);
  return keysA.every((k) => inB.has(k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * What dcmjs writes for an element it read (its own _getTagWriteValues, dcmjs 0.51): the raw value
 * read when the Value is still that value formatted, else the Value. dcmjs compares the two with a
 * deepEqual that looks each array index up with `Array.prototype.includes` over the other's keys,
 * so the comparison costs the square of the number of values: a CS of 65,536 values took 14 s to
 * write (test/dicom/fuzz). dcmjs calls it through the class, so this replaces it for its own writes
 * too; the values returned are the same.
 */
const valueRepresentation = (dcmjs.data as unknown as { ValueRepresentation: { createByTypeString(type: string): { applyFormatting(v: unknown): unknown } } }).ValueRepresentation;
dcmjs.data.DicomMessage._getTagWriteValues = function getTagWriteValues(vrType: string, tagObject: DicomElement): unknown {
  if (!tagObject._rawValue) return tagObject.Value;
  const vr = valueRepresentation.createByTypeString(vrType);
  const raw = tagObject._rawValue;
  const original = Array.isArray(raw) ? raw.map((v) => vr.applyFormatting(v)) : vr.applyFormatting(raw);
  return sameValue(tagObject.Value, original) ? raw : tagObject.Value;
};

const loggers = [dcmjs.log, dcmjs.log.getLogger('validation.dcmjs')];

/**
 * Runs `fn` with dcmjs's console logging off. dcmjs warns about what it reads (odd VRs,
 * values it cannot convert) and such messages can quote attribute values, so nothing that
 * parses submitted files may let them through. The loggers are process-wide; `fn` is
 * synchronous, so nobody else's messages are affected.
 */
export function quietly<T>(fn: () => T): T {
  const previous = loggers.map((l) => l.getLevel());
  for (const l of loggers) l.setLevel('silent');
  try {
    return fn();
  } finally {
    loggers.forEach((l, i) => l.setLevel(previous[i]));
  }
}

/** Silences dcmjs for the life of the process (worker threads that only parse submitted files). */
export function silenceDcmjs(): void {
  for (const l of loggers) l.setLevel('silent');
}

/** Standard-dictionary VR of a tag written "ggggeeee", or undefined for unknown tags. */
export function dictionaryVr(tag: string): string | undefined {
  const key = `(${tag.slice(0, 4)},${tag.slice(4, 8)})`.toUpperCase();
  return dcmjs.data.DicomMetaDictionary.dictionary[key]?.vr;
}

export function dictionaryKeyword(tag: string): string | undefined {
  const key = `(${tag.slice(0, 4)},${tag.slice(4, 8)})`.toUpperCase();
  return dcmjs.data.DicomMetaDictionary.dictionary[key]?.name;
}

/** The standard tag ("GGGGEEEE") of a keyword of the data dictionary, or null for none. */
export function dictionaryTag(keyword: string): string | null {
  const entry = Object.hasOwn(dcmjs.data.DicomMetaDictionary.nameMap, keyword) ? dcmjs.data.DicomMetaDictionary.nameMap[keyword] : undefined;
  return entry ? entry.tag.replace(/[(),]/g, '').toUpperCase() : null;
}
