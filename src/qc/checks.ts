import { DicomParseError } from '../dicom/errors.js';
import { decodeFrame, DecodeLimitError, dicomSizeProblem, isSupportedTransferSyntax, PixelDataError, pixelModuleProblem, UnsupportedPixelModuleError, UnsupportedTransferSyntaxError } from '../imaging/index.js';
import { readFacts, UnreadableFileError, type FileFacts } from './facts.js';
import { bySeverity, finding, QcReason, type QcFinding } from './reasons.js';

export interface FileCheckResult {
  /** Null when the file could not be read far enough to know anything about it. */
  facts: FileFacts | null;
  /** Most severe first; the first one is what the file is quarantined for. Empty: the file passes. */
  findings: QcFinding[];
}

export interface FileCheckOptions {
  /**
   * Also decode the middle frame, which catches compressed streams that are cut short or
   * corrupt (the structure can be intact while the codestream is not). Costs one decode,
   * which ingest pays anyway for the thumbnail. 'compressed': only encapsulated pixel data,
   * since for native data the length check already proves every pixel is there.
   */
  decodePixels?: boolean | 'compressed';
}

// SOP classes that legitimately carry no Pixel Data: structured reports, presentation
// states, most RT objects, encapsulated documents, waveforms, raw data, registrations,
// real-world value maps and surfaces. Everything else under the storage root is an image.
const NON_IMAGE_SOP_CLASS = [
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\./,
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.11\./,
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.([3-9]|1[0-9])$/,
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.104\./,
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.9\./,
  /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.6[678](\.|$)/,
];
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';

/** Whether the object is an image, i.e. whether missing Pixel Data is a defect. */
export function expectsPixelData(f: FileFacts): boolean {
  if (f.rows !== null || f.columns !== null) return true;
  const cls = f.sopClassUid ?? f.metaSopClassUid;
  return !!cls && cls.startsWith(STORAGE_ROOT) && !NON_IMAGE_SOP_CLASS.some((re) => re.test(cls));
}

/** Bytes a native (uncompressed) Pixel Data value must hold, or null when the header cannot say. */
export function expectedNativeLength(f: FileFacts): number | null {
  if (!f.rows || !f.columns || !f.bitsAllocated) return null;
  const subsampled = f.samplesPerPixel === 3 && /^YBR_(FULL|PARTIAL)_42[02]$/.test(f.photometricInterpretation ?? '');
  const samples = subsampled ? 2 : f.samplesPerPixel;
  return Math.ceil((f.rows * f.columns * samples * f.numberOfFrames * f.bitsAllocated) / 8);
}

function fromParseError(e: DicomParseError): QcFinding {
  const r = e.reason;
  if (r.startsWith('empty file')) return finding(QcReason.EMPTY, 'the file is empty (0 bytes)');
  if (r.startsWith('not a DICOM file') || r.startsWith('no File Meta Information')) {
    return finding(QcReason.MISSING_HEADER, `no DICOM header: ${r}`);
  }
  if (r.startsWith('the file has no dataset') || r === 'empty dataset') return finding(QcReason.BLANK_HEADER, `blank header: ${r}`);
  if (r.startsWith('truncated')) return finding(QcReason.TRUNCATED, r);
  return finding(QcReason.PARSE_ERROR, r);
}

/** Checks that need only the parsed header and the pixel value's length. */
export function headerFindings(f: FileFacts): QcFinding[] {
  const out: QcFinding[] = [];
  // A dataset that names no SOP class, instance, study, series or modality says nothing about
  // what it is: typically a header zeroed by a broken exporter or an anonymiser gone too far.
  if (!f.sopClassUid && !f.sopInstanceUid && !f.studyInstanceUid && !f.seriesInstanceUid && !f.modality) {
    return [finding(QcReason.BLANK_HEADER, 'blank header: the dataset has no SOP Class, SOP Instance, Study, Series or Modality')];
  }
  if (!f.patientId) out.push(finding(QcReason.MISSING_PATIENT_ID, 'the file has no PatientID, so it cannot be assigned to an individual'));
  const missing = [
    ['SOPInstanceUID', f.sopInstanceUid], ['StudyInstanceUID', f.studyInstanceUid], ['SeriesInstanceUID', f.seriesInstanceUid],
  ].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) out.push(finding(QcReason.MISSING_UID, `the file lacks ${missing.join(', ')}`));
  if (!isSupportedTransferSyntax(f.transferSyntaxUid)) {
    out.push(finding(QcReason.UNSUPPORTED_TRANSFER_SYNTAX, `transfer syntax ${f.transferSyntaxUid || '(none)'} is unknown or not supported; its pixel data cannot be decoded`));
    return out; // The pixel layout of an unknown syntax says nothing checkable.
  }
  const px = f.pixelData;
  if (!px) {
    if (expectsPixelData(f)) out.push(finding(QcReason.NO_PIXEL_DATA, 'the image has no Pixel Data'));
    return out;
  }
  if (px.length === 0) {
    out.push(finding(QcReason.NO_PIXEL_DATA, px.encapsulated ? 'the encapsulated Pixel Data has no fragments' : 'the Pixel Data is empty'));
    return out;
  }
  if (!f.rows || !f.columns || !f.bitsAllocated) {
    out.push(finding(QcReason.CORRUPT_PIXEL_DATA, 'Pixel Data without usable Rows, Columns and Bits Allocated'));
    return out;
  }
  // The renderer's own rule (src/imaging/pixelModule.ts): nothing is archived that it would refuse.
  // Header-only, so native pixels, which screening does not decode, are judged too.
  const layout = pixelModuleProblem(f.pixelModule, f.transferSyntaxUid);
  if (layout) {
    out.push(finding(QcReason.UNSUPPORTED_PIXEL_MODULE, `the archive cannot render this pixel module: ${layout}`));
    return out; // The expected length of a layout that cannot be read says nothing.
  }
  const expected = px.encapsulated ? null : expectedNativeLength(f);
  if (expected !== null && px.length < expected) {
    out.push(finding(QcReason.SHORT_PIXEL_DATA, `Pixel Data holds ${px.length} bytes; ${f.rows}x${f.columns}x${f.samplesPerPixel} at ${f.bitsAllocated} bits, ${f.numberOfFrames} frame(s) needs ${expected}`));
  }
  return out;
}

/**
 * Per-file quality checks on the bytes as received. Never throws for bad input: every
 * problem becomes a finding with a machine-readable reason and a message without values.
 */
export async function checkFile(bytes: Uint8Array, opts: FileCheckOptions = {}): Promise<FileCheckResult> {
  if (bytes.length === 0) return { facts: null, findings: [finding(QcReason.EMPTY, 'the file is empty (0 bytes)')] };
  let facts: FileFacts;
  try {
    facts = readFacts(bytes).facts;
  } catch (e) {
    if (e instanceof DicomParseError) return { facts: null, findings: [fromParseError(e)] };
    if (e instanceof UnreadableFileError) return { facts: null, findings: [finding(QcReason.PARSE_ERROR, e.reason)] };
    throw e;
  }
  const findings = headerFindings(facts);
  // From the header alone, before anything is decoded (issue 22: bounded work per upload).
  const tooLarge = facts.pixelData ? dicomSizeProblem(facts) : null;
  if (tooLarge) findings.push(finding(QcReason.IMAGE_TOO_LARGE, tooLarge));
  const pixelFindingAlready = !!tooLarge || findings.some((x) => x.reason === QcReason.NO_PIXEL_DATA || x.reason === QcReason.SHORT_PIXEL_DATA
    || x.reason === QcReason.CORRUPT_PIXEL_DATA || x.reason === QcReason.UNSUPPORTED_TRANSFER_SYNTAX || x.reason === QcReason.UNSUPPORTED_PIXEL_MODULE
    || x.reason === QcReason.BLANK_HEADER);
  const decode = opts.decodePixels ?? true;
  if (decode && facts.pixelData && !pixelFindingAlready && (decode === true || facts.pixelData.encapsulated)) {
    try {
      await decodeFrame(bytes);
    } catch (e) {
      if (e instanceof DecodeLimitError) {
        findings.push(finding(QcReason.IMAGE_TOO_LARGE, e.message));
      } else if (e instanceof UnsupportedPixelModuleError) {
        findings.push(finding(QcReason.UNSUPPORTED_PIXEL_MODULE, `the archive cannot render this pixel module: ${e.message}`));
      } else if (e instanceof UnsupportedTransferSyntaxError) {
        findings.push(finding(QcReason.UNSUPPORTED_TRANSFER_SYNTAX, `transfer syntax ${facts.transferSyntaxUid} cannot be decoded`));
      } else if (e instanceof PixelDataError) {
        // Decoder messages describe sizes and structure, not attribute values.
        const short = /truncat|too short|short|remain/i.test(e.message);
        findings.push(finding(short ? QcReason.SHORT_PIXEL_DATA : QcReason.CORRUPT_PIXEL_DATA, `the pixel data does not decode: ${e.message.slice(0, 200)}`));
      } else {
        // decodeFrame maps what a decoder throws to the classes above. A RangeError from inside a
        // decoder used to be let through here as if it were a bad frame index, and the file passed
        // screening (test/dicom/fuzz); whatever else escapes, the file is not passed on it.
        findings.push(finding(QcReason.CORRUPT_PIXEL_DATA, `the pixel data does not decode (${e instanceof Error ? e.name : 'error'})`));
      }
    }
  }
  return { facts, findings: bySeverity(findings) };
}
