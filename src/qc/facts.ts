import { createHash } from 'node:crypto';
import { dcmjs, type DicomDataset } from '../deid/dcmjs.js';
import { DicomParseError } from '../deid/errors.js';
import { EXPLICIT_BE, frame, type FramedFile } from '../deid/framing.js';

/**
 * What QC needs to know about one received file, read once. Identity values are the
 * SOURCE values (before de-identification): consistency checks compare the patient IDs
 * the submitter sent, and these facts are never exposed through the API.
 */
export interface FileFacts {
  /** Transfer syntax the file declared (or that was inferred for meta-less files). */
  transferSyntaxUid: string;
  /** From the dataset; the File Meta's Media Storage SOP Class is `metaSopClassUid`. */
  sopClassUid: string | null;
  metaSopClassUid: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  patientId: string | null;
  modality: string | null;
  rows: number | null;
  columns: number | null;
  bitsAllocated: number | null;
  samplesPerPixel: number;
  numberOfFrames: number;
  photometricInterpretation: string | null;
  /** Top-level Pixel Data (or Float/Double Float Pixel Data); null when the file has none. */
  pixelData: PixelFacts | null;
}

export interface PixelFacts {
  encapsulated: boolean;
  /** Bytes of the value (native) or of all fragments together (encapsulated). */
  length: number;
  /** SHA-256 of those bytes: identical pixels under different UIDs hash alike. */
  sha256: string;
}

/** The file is DICOM-framed but its dataset could not be read; `reason` is safe to show. */
export class UnreadableFileError extends Error {
  constructor(readonly reason: string, cause?: DicomParseError | Error) {
    super(reason, { cause });
    this.name = 'UnreadableFileError';
  }
}

function text(ds: DicomDataset, tag: string): string | null {
  let v = ds[tag]?.Value?.[0];
  if (v && typeof v === 'object' && 'Alphabetic' in v) v = (v as { Alphabetic: unknown }).Alphabetic;
  if (v === undefined || v === null) return null;
  const s = String(v).replace(/[\0 ]+$/, '').trim();
  return s === '' ? null : s;
}

function int(ds: DicomDataset, tag: string): number | null {
  const s = text(ds, tag);
  if (s === null) return null;
  const n = Number(s);
  return Number.isInteger(n) ? n : null;
}

function pixelFacts(ds: DicomDataset, declaredLength: number | null): PixelFacts | null {
  const el = ds['7FE00010'] ?? ds['7FE00008'] ?? ds['7FE00009'];
  if (!el) return null;
  const parts = (el.Value ?? []).filter((x): x is ArrayBuffer => x instanceof ArrayBuffer);
  const encapsulated = declaredLength === -1;
  const hash = createHash('sha256');
  let length = 0;
  for (const p of parts) {
    hash.update(new Uint8Array(p));
    length += p.byteLength;
  }
  // dcmjs reads a zero-length native value as two zero bytes; the declared length is the truth.
  if (!encapsulated && declaredLength !== null && declaredLength >= 0 && ds['7FE00010'] === el) length = Math.min(length, declaredLength);
  return { encapsulated, length, sha256: hash.digest('hex') };
}

/**
 * The same facts read straight from the framed bytes (little endian only, where the bytes
 * are what dcmjs would hand back): the value of native Pixel Data, or the fragments of
 * encapsulated Pixel Data without the Basic Offset Table.
 */
function rawPixelFacts(framed: FramedFile): PixelFacts {
  const bytes = framed.pixelElement!.value;
  const hash = createHash('sha256');
  if (framed.pixelDataLength !== -1) return { encapsulated: false, length: bytes.length, sha256: hash.update(bytes).digest('hex') };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let length = 0;
  // Framing has already proved the item structure sound.
  for (let at = 0, item = 0; at + 8 <= bytes.length; item++) {
    const element = view.getUint16(at + 2, true);
    const size = view.getUint32(at + 4, true);
    if (element !== 0xe000) break;
    if (item > 0) { hash.update(bytes.subarray(at + 8, at + 8 + size)); length += size; }
    at += 8 + size;
  }
  return { encapsulated: true, length, sha256: hash.digest('hex') };
}

/**
 * Parses a file with the de-identification engine's framing walker (which refuses truncated
 * or structurally broken files instead of letting dcmjs zero-fill them) and dcmjs.
 * Throws DicomParseError (from framing) or UnreadableFileError (dcmjs refused the dataset).
 */
export function readFacts(bytes: Uint8Array): { facts: FileFacts; dataset: DicomDataset } {
  const framed = frame(bytes);
  // A trailing little-endian Pixel Data is hashed from the bytes; dcmjs reads only the header.
  const header = framed.transferSyntaxUid !== EXPLICIT_BE ? framed.canonicalHeader() : null;
  const level = dcmjs.log.getLevel();
  dcmjs.log.setLevel('silent');
  let ds: DicomDataset;
  try {
    ds = dcmjs.data.DicomMessage.readFile(header ?? framed.canonical, { ignoreErrors: false }).dict;
  } catch (e) {
    const why = e instanceof Error ? e.name : 'error';
    throw new UnreadableFileError(`the dataset could not be parsed (${why})`, e instanceof Error ? e : undefined);
  } finally {
    dcmjs.log.setLevel(level as unknown as string);
  }
  const facts: FileFacts = {
    transferSyntaxUid: framed.sourceTransferSyntaxUid.replace(/[\0 ]+$/, ''),
    sopClassUid: text(ds, '00080016'),
    metaSopClassUid: framed.sourceMeta['00020002'] || null,
    sopInstanceUid: text(ds, '00080018'),
    studyInstanceUid: text(ds, '0020000D'),
    seriesInstanceUid: text(ds, '0020000E'),
    patientId: text(ds, '00100020'),
    modality: text(ds, '00080060'),
    rows: int(ds, '00280010'),
    columns: int(ds, '00280011'),
    bitsAllocated: int(ds, '00280100'),
    samplesPerPixel: int(ds, '00280002') ?? 1,
    numberOfFrames: Math.max(1, int(ds, '00280008') ?? 1),
    photometricInterpretation: text(ds, '00280004'),
    pixelData: header ? rawPixelFacts(framed) : pixelFacts(ds, framed.pixelDataLength),
  };
  return { facts, dataset: ds };
}
