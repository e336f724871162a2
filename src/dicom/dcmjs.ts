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
