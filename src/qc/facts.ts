import { createHash } from 'node:crypto';
import { cleanUid, DicomDatasetError, EXPLICIT_BE, readDicom, tagInt, tagText, type DicomDataset, type DicomParseError, type FramedFile } from '../dicom/index.js';
import { readPixelModule, type PixelModule } from '../imaging/index.js';

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
  /** The Image Pixel Module as stated (no defaults), what decides whether the archive can render the pixels. */
  pixelModule: PixelModule;
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

const text = tagText;
const int = tagInt;

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
 * Reads a file through the front door (src/dicom: framing refuses truncated or structurally
 * broken files instead of letting dcmjs zero-fill them), header only where the Pixel Data ends
 * the file. Throws DicomParseError (framing) or UnreadableFileError (dcmjs refused the dataset).
 */
export function readFacts(bytes: Uint8Array): { facts: FileFacts; dataset: DicomDataset } {
  let file;
  try {
    // A trailing little-endian Pixel Data is hashed from the bytes; dcmjs reads only the header.
    file = readDicom(bytes, { headerOnly: true });
    // Big-endian pixels are byte-swapped by dcmjs; the hash is taken of what it hands back.
    if (file.headerOnly && file.framed.transferSyntaxUid === EXPLICIT_BE) file = readDicom(bytes);
  } catch (e) {
    if (e instanceof DicomDatasetError) throw new UnreadableFileError(e.reason, e);
    throw e;
  }
  const { framed } = file;
  const ds = file.message.dict;
  const header = file.headerOnly;
  const facts: FileFacts = {
    transferSyntaxUid: cleanUid(framed.sourceTransferSyntaxUid),
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
    pixelModule: readPixelModule(ds),
    pixelData: header ? rawPixelFacts(framed) : pixelFacts(ds, framed.pixelDataLength),
  };
  return { facts, dataset: ds };
}
