/**
 * Machine-readable quarantine reasons. Portals switch on the code; the message beside it is
 * for people and, like deid's DicomParseError reasons, never quotes attribute values (they
 * may be PHI the file was quarantined before de-identification could remove).
 *
 * Codes the ingest pipeline already writes (EMPTY, PARSE_ERROR, MISSING_PATIENT_ID,
 * MISSING_UID, MIXED_PATIENTS) keep their spelling so one vocabulary covers both.
 */
export const QcReason = {
  EMPTY: 'EMPTY',
  /** Not recognisable as DICOM at all: no preamble/DICM and no plausible first element. */
  MISSING_HEADER: 'MISSING_HEADER',
  /** DICOM framing is present but the dataset says nothing about what the object is. */
  BLANK_HEADER: 'BLANK_HEADER',
  PARSE_ERROR: 'PARSE_ERROR',
  TRUNCATED: 'TRUNCATED',
  MISSING_PATIENT_ID: 'MISSING_PATIENT_ID',
  MISSING_UID: 'MISSING_UID',
  NO_PIXEL_DATA: 'NO_PIXEL_DATA',
  SHORT_PIXEL_DATA: 'SHORT_PIXEL_DATA',
  CORRUPT_PIXEL_DATA: 'CORRUPT_PIXEL_DATA',
  UNSUPPORTED_TRANSFER_SYNTAX: 'UNSUPPORTED_TRANSFER_SYNTAX',
  /** The Image Pixel Module describes samples the archive cannot render (src/imaging/pixelModule.ts). */
  UNSUPPORTED_PIXEL_MODULE: 'UNSUPPORTED_PIXEL_MODULE',
  /** The header declares more pixels than the archive decodes (OBIA_MAX_FRAME_PIXELS, OBIA_MAX_DECODED_BYTES). */
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  /** One StudyInstanceUID carries more than one PatientID. */
  MIXED_PATIENTS: 'MIXED_PATIENTS',
  /** The images of one series disagree on patient or study. */
  MIXED_SERIES: 'MIXED_SERIES',
  /** Rows, Columns or Bits Allocated differ from the rest of the series. */
  INCONSISTENT_GEOMETRY: 'INCONSISTENT_GEOMETRY',
  DUPLICATE_UID: 'DUPLICATE_UID',
  DUPLICATE_PIXELS: 'DUPLICATE_PIXELS',
  /** Codes the pipeline writes outside screening (issue 21): one vocabulary for all of them. */
  MISSING_SOP_INSTANCE_UID: 'MISSING_SOP_INSTANCE_UID',
  PROCESSING_ERROR: 'PROCESSING_ERROR',
  STAGING_MISSING: 'STAGING_MISSING',
  /** The staged bytes are not the ones received (their sha256 differs): never archived as if sent. */
  STAGING_CHANGED: 'STAGING_CHANGED',
  /** A UID the archive keeps from the file (the SOP Class UID) is not a DICOM UID. */
  INVALID_UID: 'INVALID_UID',
  /** A value is longer than the catalogue's field for it (src/db/columnBounds.ts). */
  VALUE_TOO_LONG: 'VALUE_TOO_LONG',
  /** The database refused the file's values for a reason of their own (not its state): set aside, not a failed run. */
  CATALOGUE_REFUSED: 'CATALOGUE_REFUSED',
  /** Holds for pixel review set by the burned-in text check (issue 20): the image is stored, not quarantined. */
  BURNED_IN_TEXT: 'BURNED_IN_TEXT',
  BURNED_IN_OCR_FAILED: 'BURNED_IN_OCR_FAILED',
} as const;
export type QcReason = (typeof QcReason)[keyof typeof QcReason];

/** What each reason means, for people (the GraphQL enum's value descriptions). */
export const QC_REASON_DESCRIPTIONS: Record<QcReason, string> = {
  EMPTY: 'The file is empty.',
  MISSING_HEADER: 'Not recognisable as DICOM at all: no preamble/DICM and no plausible first element.',
  BLANK_HEADER: 'DICOM framing is present but the dataset says nothing about what the object is.',
  PARSE_ERROR: 'The DICOM dataset could not be parsed.',
  TRUNCATED: 'The file ends before its last element does.',
  MISSING_PATIENT_ID: 'No PatientID: a repair must say which local patient the file belongs to.',
  MISSING_UID: 'A Study, Series or SOP Instance UID is missing.',
  NO_PIXEL_DATA: 'The image has no Pixel Data.',
  SHORT_PIXEL_DATA: 'Pixel Data is shorter than rows × columns × samples × frames require.',
  CORRUPT_PIXEL_DATA: 'The compressed pixel data cannot be decoded.',
  UNSUPPORTED_TRANSFER_SYNTAX: 'The transfer syntax is not one the archive can decode.',
  UNSUPPORTED_PIXEL_MODULE: 'The Image Pixel Module describes samples the archive cannot render: Samples per Pixel other than 1 or 3, Bits Allocated other than 1, 8, 16 or 32, Bits Stored or High Bit outside the allocated bits, PALETTE COLOR without its lookup tables, or another layout the decoder refuses.',
  IMAGE_TOO_LARGE: 'The header declares more pixels than the archive decodes (OBIA_MAX_FRAME_PIXELS, OBIA_MAX_DECODED_BYTES); refused before decoding.',
  MIXED_PATIENTS: 'One StudyInstanceUID carries more than one PatientID.',
  MIXED_SERIES: 'The images of one series disagree on patient or study.',
  INCONSISTENT_GEOMETRY: 'Rows, Columns or Bits Allocated differ from the rest of the series.',
  DUPLICATE_UID: 'Another file already has this SOPInstanceUID.',
  DUPLICATE_PIXELS: 'Another file already has these exact pixels.',
  MISSING_SOP_INSTANCE_UID: 'No SOPInstanceUID: the image cannot be named.',
  PROCESSING_ERROR: 'The pipeline failed on this file for a reason of its own; it can be reprocessed.',
  STAGING_MISSING: 'The received bytes are no longer in the staging area.',
  STAGING_CHANGED: 'The bytes in the staging area are not the ones received (their sha256 differs); upload the file again.',
  INVALID_UID: 'A UID the archive keeps from the file (the SOP Class UID) is not a DICOM UID: dot-separated numbers, at most 64 characters.',
  VALUE_TOO_LONG: 'A value of the file is longer than the catalogue holds for it.',
  CATALOGUE_REFUSED: "The archive's database refused the file's values; it can be reprocessed once the cause is mended.",
  BURNED_IN_TEXT: 'Held for pixel review: OCR found identifying text in the pixels (blanked, for a curator to confirm) or text it could not read.',
  BURNED_IN_OCR_FAILED: 'Held for pixel review: OCR could not check the pixels for burned-in text (it failed or timed out).',
};

export interface QcFinding {
  reason: QcReason;
  message: string;
}

export function finding(reason: QcReason, message: string): QcFinding {
  return { reason, message };
}

// Order of severity: what makes the bytes unusable first, then what a repair (a patient
// mapping, a UID) could fix, then what only matters relative to other files.
const SEVERITY: QcReason[] = [
  'EMPTY', 'MISSING_HEADER', 'BLANK_HEADER', 'PARSE_ERROR', 'TRUNCATED', 'UNSUPPORTED_TRANSFER_SYNTAX', 'UNSUPPORTED_PIXEL_MODULE', 'IMAGE_TOO_LARGE',
  'NO_PIXEL_DATA', 'SHORT_PIXEL_DATA', 'CORRUPT_PIXEL_DATA', 'MISSING_UID', 'MISSING_PATIENT_ID',
  'MIXED_PATIENTS', 'MIXED_SERIES', 'INCONSISTENT_GEOMETRY', 'DUPLICATE_UID', 'DUPLICATE_PIXELS',
  'MISSING_SOP_INSTANCE_UID', 'INVALID_UID', 'VALUE_TOO_LONG', 'STAGING_MISSING', 'STAGING_CHANGED', 'CATALOGUE_REFUSED', 'PROCESSING_ERROR', 'BURNED_IN_OCR_FAILED', 'BURNED_IN_TEXT',
];

/** Most severe first; stable for equal reasons. */
export function bySeverity(findings: QcFinding[]): QcFinding[] {
  return [...findings].sort((a, b) => SEVERITY.indexOf(a.reason) - SEVERITY.indexOf(b.reason));
}
