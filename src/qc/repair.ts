import { DicomParseError, isUid, readDicom } from '../dicom/index.js';
import { BadUserInputError } from '../errors.js';

/** What a submitter supplies to fix a quarantined file; each field overwrites that attribute. */
export interface Repair {
  /** The local patient ID the file belongs to (it had none, or the wrong one). */
  patientId?: string | null;
  studyInstanceUid?: string | null;
  seriesInstanceUid?: string | null;
}

const FIELDS: [keyof Repair, string, string, string][] = [
  ['patientId', '00100020', 'LO', 'PatientID'],
  ['studyInstanceUid', '0020000D', 'UI', 'StudyInstanceUID'],
  ['seriesInstanceUid', '0020000E', 'UI', 'SeriesInstanceUID'],
];

/** LO (PS3.5 6.2): at most 64 characters, no backslash (it separates values), no control characters. */
const LO = /^[^\\\u0000-\u001f\u007f]{1,64}$/u;

/**
 * Refuses a repair whose values the file could not carry, before anything is staged: a value the
 * pipeline would refuse later (a 300-character PatientID quarantined the file again as
 * PROCESSING_ERROR, a backslash made two PatientIDs, a malformed UID was an internal error). The
 * value is never echoed: it is PHI.
 */
export function checkRepair(repair: Repair): void {
  for (const [field, , vr] of FIELDS) {
    const value = repair[field]?.trim();
    if (!value) continue;
    if (vr === 'UI' && !isUid(value)) throw new BadUserInputError(`repair.${field} is not a DICOM UID (dot-separated numbers, at most 64 characters)`, 'repair');
    if (vr === 'LO' && !LO.test(value)) throw new BadUserInputError(`repair.${field} must be at most 64 characters, without backslashes or control characters`, 'repair');
  }
}

/**
 * The staged bytes with the repair applied: a new file, for the staging area to keep beside the
 * original (nothing a submitter sent is changed or deleted until a curator discards it). The copy
 * is what the pipeline reads from then on.
 */
export function repaired(bytes: Buffer, repair: Repair): { bytes: Buffer; applied: string[] } {
  checkRepair(repair);
  let dict;
  try {
    dict = readDicom(bytes).message;
  } catch (err) {
    // Bytes that are no DICOM cannot be repaired attribute by attribute: that is the caller's to know, not a fault.
    if (err instanceof DicomParseError) throw new BadUserInputError('the file cannot be read as DICOM, so its attributes cannot be repaired: DISCARD it and upload a corrected file', 'repair');
    throw err;
  }
  const applied: string[] = [];
  for (const [field, tag, vr, keyword] of FIELDS) {
    const value = repair[field]?.trim();
    if (!value) continue;
    dict.dict[tag] = { vr, Value: [value] };
    applied.push(keyword);
  }
  return { bytes: Buffer.from(dict.write({ allowInvalidVRLength: true })), applied };
}
