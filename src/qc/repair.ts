import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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
 * Writes a repaired copy beside the staged file and leaves the original untouched: nothing a
 * submitter sent is changed or deleted until a curator discards it. The copy is what the
 * pipeline reads from then on.
 */
export async function repairedCopy(stagedAbsolute: string, repair: Repair): Promise<{ applied: string[]; stagingPath: (original: string) => string }> {
  const bytes = await fs.promises.readFile(stagedAbsolute);
  const dict = readDicom(bytes).message;
  const applied: string[] = [];
  for (const [field, tag, vr, keyword] of FIELDS) {
    const value = repair[field]?.trim();
    if (!value) continue;
    if (vr === 'UI' && !/^[0-9]+(\.[0-9]+)*$/.test(value)) throw new TypeError(`${field} is not a UID`);
    dict.dict[tag] = { vr, Value: [value] };
    applied.push(keyword);
  }
  const suffix = `.repaired-${crypto.randomUUID()}`;
  const out = Buffer.from(dict.write({ allowInvalidVRLength: true }));
  await fs.promises.writeFile(stagedAbsolute + suffix, out, { mode: 0o600 });
  return { applied, stagingPath: (original) => path.join(path.dirname(original), path.basename(original) + suffix) };
}
