// dcmjs ships no type declarations. A module-wide `declare module 'dcmjs'` would clash
// with any other engineer's declaration, so this file types only the slice deid uses.
export interface DicomElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown;
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomDataset = Record<string, DicomElement>;

export interface DicomDictInstance {
  meta: DicomDataset;
  dict: DicomDataset;
  write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
}

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
      dictionary: Record<string, { tag: string; vr: string; name: string } | undefined>;
    };
  };
  log: { setLevel(level: string): void; getLevel(): number; getLogger(name: string): { setLevel(level: string): void } };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const dcmjs = require('dcmjs') as DcmjsModule;

/** Standard-dictionary VR of a tag written "ggggeeee", or undefined for unknown tags. */
export function dictionaryVr(tag: string): string | undefined {
  const key = `(${tag.slice(0, 4)},${tag.slice(4, 8)})`.toUpperCase();
  return dcmjs.data.DicomMetaDictionary.dictionary[key]?.vr;
}

export function dictionaryKeyword(tag: string): string | undefined {
  const key = `(${tag.slice(0, 4)},${tag.slice(4, 8)})`.toUpperCase();
  return dcmjs.data.DicomMetaDictionary.dictionary[key]?.name;
}
