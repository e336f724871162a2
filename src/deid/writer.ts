import { dcmjs, type DicomDataset, type DicomElement } from '../dicom/dcmjs';

// dcmjs writes every element through two fresh buffer streams, and writing a de-identified
// header cost more than everything else de-identification does together. The files of a series
// share most of their header once de-identified (the same remapped study and series UIDs,
// accession, shifted dates, equipment), so each element's bytes, as dcmjs encodes them, are
// remembered under the element's exact content: dcmjs still encodes every distinct element, and
// the output is byte for byte what dcmjs writes (tested on every sample file).

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** The cache is emptied when its keys and encodings pass this (a series' header is a few kilobytes). */
const CACHE_BYTES = 32 * 1024 * 1024;
/** An element whose key is longer (a long text, an SR content tree) is encoded each time. */
const KEY_MAX = 64 * 1024;
const WRITE_OPTIONS = { allowInvalidVRLength: true };
const PREAMBLE = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);

class NotPlain extends Error {}

/**
 * An exact, injective text form of plain data (strings, finite numbers, booleans, null,
 * undefined, arrays and plain objects); anything else (binary values, BigInt, -0, NaN) throws,
 * and such elements are encoded each time.
 */
function plainKey(v: unknown): string {
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v) || Object.is(v, -0)) throw new NotPlain();
      return `#${v}`;
    case 'boolean': return v ? 'T' : 'F';
    case 'undefined': return 'U';
    case 'object': {
      if (v === null) return 'N';
      if (Array.isArray(v)) return `[${v.map(plainKey).join(',')}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new NotPlain();
      return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${plainKey((v as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default: throw new NotPlain();
  }
}

function elementKey(tag: string, el: DicomElement, syntax: string): string | null {
  try {
    // Keyed by the values dcmjs will write (the Value, or the raw string it was read from when
    // that still formats to the Value): an original value that de-identification replaced
    // lingers in _rawValue and must not be kept in a long-lived key.
    const written = el._rawValue === undefined ? el.Value : dcmjs.data.DicomMessage._getTagWriteValues(el.vr, el);
    const key = `${syntax}|${tag}|${el.vr}|${plainKey(written)}`;
    return key.length <= KEY_MAX ? key : null;
  } catch (e) {
    if (e instanceof NotPlain) return null;
    throw e;
  }
}

/** Part 10 writer with dcmjs's output; one per thread, reused across files. */
export class Part10Writer {
  private readonly cache = new Map<string, Uint8Array>();
  private cachedBytes = 0;

  private element(tag: string, el: DicomElement, syntax: string): Uint8Array {
    const key = elementKey(tag, el, syntax);
    const known = key === null ? undefined : this.cache.get(key);
    if (known) return known;
    const stream = new dcmjs.data.WriteBufferStream(256, true);
    dcmjs.data.DicomMessage.write({ [tag]: el }, stream, syntax, WRITE_OPTIONS);
    const bytes = new Uint8Array(stream.getBuffer());
    if (key !== null) {
      // Strings take two bytes a character.
      this.cachedBytes += 2 * key.length + bytes.length;
      if (this.cachedBytes > CACHE_BYTES) { this.cache.clear(); this.cachedBytes = 2 * key.length + bytes.length; }
      this.cache.set(key, bytes);
    }
    return bytes;
  }

  private dataset(ds: DicomDataset, syntax: string): Uint8Array[] {
    // dcmjs's order: tag keys sorted as strings.
    return Object.keys(ds).sort().map((tag) => this.element(tag, ds[tag]!, syntax));
  }

  /** What `new DicomDict(meta)` with `dict` writes (allowInvalidVRLength), as a Buffer. */
  write(meta: DicomDataset, dict: DicomDataset): Buffer {
    const syntax = meta['00020010']?.Value?.[0];
    if (typeof syntax !== 'string') throw new Error('the File Meta Information has no Transfer Syntax UID');
    const metaParts = this.dataset(meta, EXPLICIT_LE);
    const metaLength = metaParts.reduce((n, p) => n + p.length, 0);
    const groupLength = this.element('00020000', { vr: 'UL', Value: [metaLength] }, EXPLICIT_LE);
    return Buffer.concat([PREAMBLE, groupLength, ...metaParts, ...this.dataset(dict, syntax)]);
  }
}
