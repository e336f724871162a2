import { dictionaryKeyword, type DicomDataset, type DicomElement } from '../dicom/dcmjs.js';
import { readDicom } from '../dicom/read.js';
import { BINARY_VRS, binaryBytes, byteView, stripPadding } from '../dicom/values.js';
import { blockKey, creatorsOf, isPrivateCreatorElement } from '../deid/privateTags.js';
import { buildProfile, type Profile } from '../deid/profile.js';
import { OBIA_DEFAULT_OPTIONS, type DeidOptions } from '../deid/types.js';

/**
 * TagSniffer for the archive: every tag seen in a submission's de-identified files, with how
 * many files carry it, how many distinct values it takes and a few of them, so a curator
 * can confirm no PHI is left without opening files. Built incrementally (one addDataset per
 * file, O(elements of that file)), mergeable, and serialisable so a submission's census is
 * stored with it instead of being recomputed by re-reading files.
 */

export interface CensusEntry {
  /** "(gggg,eeee)"; private data elements as "(gggg,xxee)" with their creator; nested as "(parent)>(child)". */
  tag: string;
  keyword: string | null;
  vr: string;
  privateCreator: string | null;
  /** Files carrying the tag at least once. */
  files: number;
  /** Distinct values seen; a lower bound when `distinctCapped`. */
  distinctValues: number;
  distinctCapped: boolean;
  /** The first distinct values seen, each cut to a bounded length. */
  sampleValues: string[];
  /** Has a character-string VR, or is UN whose bytes read as text. */
  textValued: boolean;
  /**
   * The profile let it through with content: Table E.1-1 lists it and the options resolve
   * it to K (keep) or C (clean, e.g. shifted dates), or it is a private element kept as safe
   * or purely numeric. These are the attributes a PHI review must read.
   */
  retained: boolean;
}

export interface CensusFilter {
  textOnly?: boolean;
  retainedOnly?: boolean;
}

export interface CensusLimits {
  /** Sample values kept per tag (default 5). */
  samples: number;
  /** Distinct values counted exactly per tag before the count becomes a lower bound (default 1024). */
  distinct: number;
  /** Characters kept of each sample value (default 64). */
  valueChars: number;
}

interface Acc {
  tag: string;
  keyword: string | null;
  vr: string;
  privateCreator: string | null;
  files: number;
  /** Sequence number of the last file that counted: one file counts once, without a per-file set. */
  lastFile: number;
  distinct: Set<string>;
  capped: boolean;
  samples: string[];
  text: boolean;
  retained: boolean;
}

export interface TagCensusJson {
  version: 1;
  options: DeidOptions;
  limits: CensusLimits;
  files: number;
  entries: { k: string; tag: string; keyword: string | null; vr: string; pc: string | null; files: number; d: string[]; capped: boolean; s: string[]; text: boolean; retained: boolean }[];
}

const TEXT_VRS = new Set('AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT'.split(' '));
/** Binary values above this size (pixel data, LUTs) are told apart by length only: hashing them is ingest's job, not the census'. */
const HASHED_BINARY_MAX = 64 * 1024;
const PRINTABLE = /^[\x20-\x7e\t\r\n]*$/;

/** cyrb53: a fast 53-bit string hash. Distinct counts need a compact key, not a cryptographic one. */
function hash53(s: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function bytesHash(b: Uint8Array): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < b.length; i++) {
    h1 = Math.imul(h1 ^ b[i], 2654435761);
    h2 = Math.imul(h2 ^ b[i], 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 'b' + (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function scalar(v: unknown): string {
  if (v && typeof v === 'object') {
    const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    if ('Alphabetic' in pn || 'Ideographic' in pn || 'Phonetic' in pn) {
      return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
    }
    return JSON.stringify(v);
  }
  // Linear: /[\0 ]+$/ backtracks over a long run of NULs inside a value (0.5 s for one fuzzed file).
  return stripPadding(String(v ?? ''));
}

/** The value as a reviewer reads it, its identity for distinct counting, and whether it is text. */
function render(el: DicomElement): { shown: string; id: string; text: boolean } {
  const values = el.Value ?? [];
  if (el.vr === 'SQ') {
    const s = `<${values.length} item${values.length === 1 ? '' : 's'}>`;
    return { shown: s, id: s, text: false };
  }
  if (BINARY_VRS.has(el.vr)) {
    // A binary VR holding no bytes at all (a misread value) is shown like any other value.
    const b = values.length === 0 || values.some(byteView) ? binaryBytes(values) : null;
    if (b) {
      // Implicit VR files deliver private text as UN bytes: show it as text, since that is where PHI hides.
      const latin = el.vr === 'UN' && b.length <= HASHED_BINARY_MAX ? stripPadding(Buffer.from(b).toString('latin1')) : null;
      if (latin !== null && latin !== '' && PRINTABLE.test(latin)) return { shown: latin, id: hash53(latin), text: true };
      const shown = `<${b.length} bytes>`;
      return { shown, id: b.length <= HASHED_BINARY_MAX ? bytesHash(b) : shown, text: false };
    }
  }
  const s = values.map(scalar).join('\\');
  return { shown: s, id: hash53(s), text: TEXT_VRS.has(el.vr) };
}

export class TagCensus {
  readonly limits: CensusLimits;
  readonly options: DeidOptions;
  private readonly profile: Profile;
  private readonly acc = new Map<string, Acc>();
  private fileCount = 0;

  constructor(opts: { options?: DeidOptions; limits?: Partial<CensusLimits> } = {}) {
    this.options = { ...(opts.options ?? OBIA_DEFAULT_OPTIONS) };
    this.limits = { samples: 5, distinct: 1024, valueChars: 64, ...opts.limits };
    this.profile = buildProfile(this.options);
  }

  /** Files added (directly or through merge). */
  get files(): number {
    return this.fileCount;
  }

  /** Adds one de-identified file's dataset (dcmjs tag-keyed form, e.g. DicomMessage.readFile(...).dict). */
  addDataset(ds: DicomDataset): void {
    this.fileCount++;
    this.walk(ds, '', this.fileCount);
  }

  /** Parses a de-identified Part 10 file and adds it. */
  addPart10(bytes: Uint8Array): void {
    this.addDataset(readDicom(bytes).message.dict);
  }

  private walk(ds: DicomDataset, prefix: string, fileNo: number): void {
    const creators = creatorsOf(ds);
    for (const key of Object.keys(ds)) {
      const el = ds[key];
      const group = parseInt(key.slice(0, 4), 16);
      const element = parseInt(key.slice(4, 8), 16);
      const isPrivate = group % 2 === 1;
      let creator: string | null = null;
      let display = `(${hex4(group)},${hex4(element)})`;
      if (isPrivate && !isPrivateCreatorElement(element) && element >= 0x1000) {
        // Block numbers are assigned per file; the creator plus the low byte is the element's identity.
        creator = creators.get(blockKey(group, element)) ?? null;
        display = `(${hex4(group)},xx${hex4(element).slice(2)})`;
      }
      const tag = prefix + display;
      const k = creator === null ? tag : `${tag}|${creator}`;
      let a = this.acc.get(k);
      if (!a) {
        a = {
          tag, vr: el.vr, privateCreator: creator, files: 0, lastFile: 0, distinct: new Set(), capped: false, samples: [], text: false,
          keyword: isPrivate ? (isPrivateCreatorElement(element) ? 'PrivateCreator' : null) : dictionaryKeyword(key) ?? null,
          retained: isPrivate ? true : this.retainedByProfile(key),
        };
        this.acc.set(k, a);
      }
      if (a.lastFile !== fileNo) {
        a.lastFile = fileNo;
        a.files++;
      }
      const r = render(el);
      if (r.text) a.text = true;
      this.note(a, r.id, r.shown);
      if (el.vr === 'SQ') {
        for (const item of el.Value ?? []) {
          if (item && typeof item === 'object') this.walk(item as DicomDataset, `${tag}>`, fileNo);
        }
      }
    }
  }

  private retainedByProfile(tag: string): boolean {
    const action = this.profile.ruleFor(tag)?.action;
    return action === 'K' || action === 'C';
  }

  /** Counts a value; `shown` null: the value is known only by its id (merged in beyond the other census' samples). */
  private note(a: Acc, id: string, shown: string | null): void {
    if (a.distinct.has(id)) return;
    if (a.distinct.size >= this.limits.distinct) {
      a.capped = true;
      return;
    }
    a.distinct.add(id);
    if (shown !== null && a.samples.length < this.limits.samples) {
      a.samples.push(shown.length > this.limits.valueChars ? `${shown.slice(0, this.limits.valueChars)}…` : shown);
    }
  }

  /** Adds another census over different files (e.g. another worker's share of a submission). */
  merge(other: TagCensus): this {
    this.fileCount += other.fileCount;
    for (const [k, o] of other.acc) {
      let a = this.acc.get(k);
      if (!a) {
        a = { ...o, distinct: new Set(), samples: [], files: 0, lastFile: 0, capped: o.capped };
        this.acc.set(k, a);
      }
      a.files += o.files;
      a.text ||= o.text;
      a.capped ||= o.capped;
      // `other` recorded its samples alongside its first distinct ids, in the same order.
      let i = 0;
      for (const id of o.distinct) {
        this.note(a, id, i < o.samples.length ? o.samples[i] : null);
        i++;
      }
    }
    return this;
  }

  entries(filter: CensusFilter = {}): CensusEntry[] {
    const out: CensusEntry[] = [];
    for (const a of this.acc.values()) {
      if (filter.textOnly && !a.text) continue;
      if (filter.retainedOnly && !a.retained) continue;
      out.push({
        tag: a.tag, keyword: a.keyword, vr: a.vr, privateCreator: a.privateCreator, files: a.files,
        distinctValues: a.distinct.size, distinctCapped: a.capped, sampleValues: [...a.samples], textValued: a.text, retained: a.retained,
      });
    }
    return out.sort((x, y) => (x.tag < y.tag ? -1 : x.tag > y.tag ? 1 : (x.privateCreator ?? '').localeCompare(y.privateCreator ?? '')));
  }

  toJSON(): TagCensusJson {
    return {
      version: 1, options: this.options, limits: this.limits, files: this.fileCount,
      entries: [...this.acc].map(([k, a]) => ({
        k, tag: a.tag, keyword: a.keyword, vr: a.vr, pc: a.privateCreator, files: a.files,
        d: [...a.distinct], capped: a.capped, s: a.samples, text: a.text, retained: a.retained,
      })),
    };
  }

  static fromJSON(json: TagCensusJson): TagCensus {
    if (json?.version !== 1) throw new TypeError(`unsupported tag census version ${String(json?.version)}`);
    const c = new TagCensus({ options: json.options, limits: json.limits });
    c.fileCount = json.files;
    for (const e of json.entries) {
      c.acc.set(e.k, {
        tag: e.tag, keyword: e.keyword, vr: e.vr, privateCreator: e.pc, files: e.files, lastFile: 0,
        distinct: new Set(e.d), capped: e.capped, samples: [...e.s], text: e.text, retained: e.retained,
      });
    }
    return c;
  }
}
