import { readDicom } from '../dicom/index.js';

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

/**
 * The staged bytes with the repair applied: a new file, for the staging area to keep beside the
 * original (nothing a submitter sent is changed or deleted until a curator discards it). The copy
 * is what the pipeline reads from then on.
 */
export function repaired(bytes: Buffer, repair: Repair): { bytes: Buffer; applied: string[] } {
  const dict = readDicom(bytes).message;
  const applied: string[] = [];
  for (const [field, tag, vr, keyword] of FIELDS) {
    const value = repair[field]?.trim();
    if (!value) continue;
    if (vr === 'UI' && !/^[0-9]+(\.[0-9]+)*$/.test(value)) throw new TypeError(`${field} is not a UID`);
    dict.dict[tag] = { vr, Value: [value] };
    applied.push(keyword);
  }
  return { bytes: Buffer.from(dict.write({ allowInvalidVRLength: true })), applied };
}
