import { dcmjs, frame, type DicomDataset } from '../../dicom';
import { DicomParseError } from '../errors';

/**
 * What the file itself says about who the image belongs to, read from the source bytes before
 * de-identification (inside the worker: it never leaves it, is never logged or stored). OCR
 * text is compared against these values; each is a list because names carry alphabetic,
 * ideographic and phonetic groups, and patients carry other IDs.
 */
export interface IdentifyingAttributes {
  names: string[];
  ids: string[];
  /** DICOM DA values (YYYYMMDD). */
  dates: string[];
  institutions: string[];
}

// Attributes whose values, if burned into the pixels, identify the patient or the encounter.
const NAME_TAGS = ['00100010', '00101001', '00101060', '00080090', '00081050', '00081070', '00321032', '00101005'];
const ID_TAGS = ['00100020', '00101000', '00100021', '00080050', '00200010', '00380010', '00101002', '00401001', '00321060'];
const DATE_TAGS = ['00100030', '00080020', '00080021', '00080022', '00080023', '00080012', '00321050'];
const INSTITUTION_TAGS = ['00080080', '00080081', '00081040', '00081010', '00101040', '00380300'];

function strings(el: { vr: string; Value?: unknown[] } | undefined): string[] {
  if (!el?.Value) return [];
  const out: string[] = [];
  for (const v of el.Value) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number') out.push(String(v));
    else if (v && typeof v === 'object') {
      // PN values come as { Alphabetic, Ideographic, Phonetic } from dcmjs.
      for (const part of Object.values(v as Record<string, unknown>)) if (typeof part === 'string') out.push(part);
      // Other IDs Sequence items carry Patient ID again.
      const id = (v as DicomDataset)['00100020'];
      if (id) out.push(...strings(id));
    }
  }
  return out.map((s) => s.replace(/\0/g, '').trim()).filter((s) => s !== '');
}

function collect(ds: DicomDataset, tags: string[]): string[] {
  return [...new Set(tags.flatMap((t) => strings(ds[t])))];
}

/** Reads the identifying attributes of a Part 10 file (header only; the pixels are not parsed). */
export function readIdentifyingAttributes(source: Uint8Array): IdentifyingAttributes {
  let ds: DicomDataset;
  try {
    const framed = frame(source);
    ds = dcmjs.data.DicomMessage.readFile(framed.canonicalHeader() ?? framed.canonical, { ignoreErrors: true }).dict;
  } catch (e) {
    throw new DicomParseError(`the dataset could not be parsed: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`);
  }
  return identifyingAttributesOf(ds);
}

/** The same, from a dataset in dcmjs's tag-keyed form (a caller that parsed the header already). */
export function identifyingAttributesOf(ds: DicomDataset): IdentifyingAttributes {
  return {
    names: collect(ds, NAME_TAGS),
    ids: collect(ds, ID_TAGS),
    dates: collect(ds, DATE_TAGS).filter((d) => /^\d{8}$/.test(d)),
    institutions: collect(ds, INSTITUTION_TAGS),
  };
}
