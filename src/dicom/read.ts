import { dcmjs, quietly, type DicomDictInstance } from './dcmjs';
import { DicomDatasetError } from './errors';
import { frame, type FramedFile } from './framing';

/** A file read through the front door: its framing and the dataset dcmjs made of it. */
export interface DicomFile {
  framed: FramedFile;
  /** dcmjs's reading (`meta`: the canonical File Meta; `dict`: the dataset, tag-keyed). */
  message: DicomDictInstance;
  /**
   * True when `message` holds everything but a top-level Pixel Data that ends the dataset; that
   * value stays untouched at `framed.pixelElement` (a view of the input, no copy).
   */
  headerOnly: boolean;
}

export interface ReadOptions {
  /**
   * Parse everything but a Pixel Data that ends the dataset: most readers need the header only,
   * and copying megabytes of pixels through dcmjs is what makes parsing slow. Elements after
   * the Pixel Data (padding, signatures) force the full parse so nothing is missed.
   */
  headerOnly?: boolean;
}

/**
 * THE way to read DICOM bytes. Framing checks the whole element structure first (dcmjs trusts
 * declared lengths, zero-fills truncated values and can loop on malformed sequences:
 * https://github.com/dcmjs-org/dcmjs/issues/326, https://github.com/dcmjs-org/dcmjs/issues/125)
 * and rebuilds canonical Part 10; then dcmjs parses, strictly and silently. Throws
 * DicomParseError for bytes that are not sound DICOM and DicomDatasetError (a subclass) for a
 * sound structure dcmjs cannot read; neither reason quotes attribute values.
 */
export function readDicom(input: Uint8Array, opts: ReadOptions = {}): DicomFile {
  const framed = frame(input);
  const header = opts.headerOnly ? framed.canonicalHeader() : null;
  let message: DicomDictInstance;
  try {
    message = quietly(() => dcmjs.data.DicomMessage.readFile(header ?? framed.canonical, { ignoreErrors: false }));
  } catch (e) {
    // By class only: dcmjs's messages can quote the values it choked on (a character set term is no PHI, and is not quoted either).
    if (e instanceof Error && e.message.startsWith('Unsupported character set')) {
      throw new DicomDatasetError('the Specific Character Set (0008,0005) names no character set the archive can decode');
    }
    throw new DicomDatasetError(`the dataset could not be parsed (${e instanceof Error ? e.name : 'error'})`);
  }
  return { framed, message, headerOnly: header !== null };
}
