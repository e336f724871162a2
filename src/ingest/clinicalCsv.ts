import { Sex } from '../domain.js';

/** One local patient's clinical data as a submitter gives it (GraphQL input or a CSV row). */
export interface ClinicalInput {
  localPatientId: string;
  sex?: Sex | null;
  age?: number | null;
  species?: string | null;
  disease?: string | null;
  pathologicalType?: string | null;
  medicalHistory?: string | null;
  familyHistory?: string | null;
  treatment?: string | null;
  /** The patient's GSA-Human individual (HRI…) or, where only that is known, dataset (HRA…) accession. */
  gsaHumanAccession?: string | null;
}

export class ClinicalDataError extends Error {}

/** A sheet with more data rows than may be staged: parsing stops at the first row past the bound. */
export class TooManyRecordsError extends Error {
  constructor(readonly max: number) { super(`the CSV has more than ${max} rows`); }
}

/**
 * A GSA-Human accession an individual may link to: the individual (HRI) or, when the submitter
 * knows only the dataset that releases the patient's sequencing, the dataset (HRA); NGDC
 * numbers both with six or more digits (HRI000001, HRA003701).
 */
export const GSA_HUMAN_PATTERN = /^HR[IA]\d{6,9}$/;

/** The accession in its canonical form (upper case, no spaces), or null for none; throws naming `where` for a malformed one. */
export function parseGsaHumanAccession(value: string | null | undefined, where: string): string | null {
  const v = value?.trim().toUpperCase() ?? '';
  if (v === '') return null;
  if (!GSA_HUMAN_PATTERN.test(v)) throw new ClinicalDataError(`${where} must be a GSA-Human individual or dataset accession (HRI or HRA followed by 6 to 9 digits)`);
  return v;
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. At most `maxRows`
 * non-blank rows are read (TooManyRecordsError past them), so a sheet past the bound costs no
 * more than one at it.
 */
export function parseCsv(text: string, maxRows = Infinity): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.some((f) => f.trim() !== '') && rows.push(row) > maxRows) throw new TooManyRecordsError(maxRows - 1);
      row = [];
    } else field += c;
  }
  if (quoted) throw new ClinicalDataError('the CSV ends inside a quoted field');
  row.push(field);
  if (row.some((f) => f.trim() !== '') && rows.push(row) > maxRows) throw new TooManyRecordsError(maxRows - 1);
  return rows;
}

const COLUMNS: Record<string, keyof ClinicalInput> = {
  patient_id: 'localPatientId', local_patient_id: 'localPatientId', localpatientid: 'localPatientId', patientid: 'localPatientId',
  sex: 'sex', age: 'age', species: 'species', disease: 'disease', diagnosis: 'disease',
  pathological_type: 'pathologicalType', pathologicaltype: 'pathologicalType',
  medical_history: 'medicalHistory', medicalhistory: 'medicalHistory',
  family_history: 'familyHistory', familyhistory: 'familyHistory', treatment: 'treatment',
  gsa_human_accession: 'gsaHumanAccession', gsahumanaccession: 'gsaHumanAccession', gsa_human: 'gsaHumanAccession', gsahuman: 'gsaHumanAccession',
};

/** The columns a sheet may have, as an error lists them. */
const FIELD_NAMES = 'patient_id, sex, age, species, disease (or diagnosis), pathological_type, medical_history, family_history, treatment and gsa_human_accession';

/** A header as an error message may show it: 40 characters at most, controls and quotes as '?'. */
function printable(text: string): string {
  const cut = [...text].slice(0, 40).join('');
  return cut.replace(/[\p{C}"\\]/gu, '?') + (cut.length < text.length ? '…' : '');
}

const SEXES: Record<string, Sex> = { f: Sex.FEMALE, female: Sex.FEMALE, m: Sex.MALE, male: Sex.MALE, o: Sex.OTHER, other: Sex.OTHER, u: Sex.UNKNOWN, unknown: Sex.UNKNOWN, '': Sex.UNKNOWN };

export function parseSex(value: string, where: string): Sex {
  const sex = SEXES[value.trim().toLowerCase()];
  if (!sex) throw new ClinicalDataError(`${where}: sex must be F, M, O or U`);
  return sex;
}

/**
 * A clinical CSV (header row naming the columns) into at most `maxRecords` records; errors name
 * the row, never the values.
 */
export function parseClinicalCsv(text: string, maxRecords = Infinity): ClinicalInput[] {
  // The header is a row too.
  const rows = parseCsv(text, maxRecords + 1);
  if (rows.length === 0) throw new ClinicalDataError('the CSV is empty');
  const header = rows[0]!.map((h) => COLUMNS[h.trim().toLowerCase().replace(/[\s-]+/g, '_')] ?? COLUMNS[h.trim().toLowerCase().replace(/[\s_-]+/g, '')]);
  // Errors name the column as the submitter wrote it, so the sheet can be fixed where it is wrong.
  const columnName = (key: keyof ClinicalInput) => rows[0]![header.indexOf(key)]!.trim();
  if (!header.includes('localPatientId')) throw new ClinicalDataError('the CSV header needs a patient_id column');
  // A column the archive does not take was dropped without a word: a misspelt "medical histroy"
  // lost every patient's history, and a sheet's name or birth-date column passed unnoticed. It is
  // named (as the submitter wrote it, cut short) and the sheet refused; a column with no name must
  // hold nothing (a trailing comma).
  const unknown = header.findIndex((key, c) => !key && (rows[0]![c]!.trim() !== '' || rows.slice(1).some((r) => (r[c] ?? '').trim() !== '')));
  if (unknown >= 0) {
    const written = rows[0]![unknown]!.trim();
    throw new ClinicalDataError(`${written ? `the CSV header's column "${printable(written)}"` : `column ${unknown + 1} of the CSV has no name but holds values, and`} is not a clinical field this archive takes: ` +
      `the columns are ${FIELD_NAMES}; remove it or rename it`);
  }
  // Two columns for one field (disease and diagnosis, or sex twice): which one was meant is not ours to guess.
  const twice = header.find((key, c) => key && header.indexOf(key) !== c);
  if (twice) throw new ClinicalDataError(`the CSV header names the ${columnName(twice)} field twice`);
  return rows.slice(1).map((cells, i) => {
    // More fields than the header names is most often an unquoted comma in free text; the fields past it would be lost.
    if (cells.length > header.length && cells.slice(header.length).some((f) => f.trim() !== '')) {
      throw new ClinicalDataError(`row ${i + 2} has ${cells.length} fields but the header names ${header.length}: quote a value that holds a comma`);
    }
    const record: ClinicalInput = { localPatientId: '' };
    header.forEach((key, c) => {
      const value = (cells[c] ?? '').trim();
      if (!key) return;
      if (key === 'sex') record.sex = parseSex(value, `row ${i + 2}`);
      else if (key === 'age') {
        if (value === '') return;
        // Plain digits only: Number() also reads 1e2, 0x10 and 4.0.
        const age = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
        if (!Number.isInteger(age) || age < 0 || age > 150) throw new ClinicalDataError(`row ${i + 2}: age must be a whole number of years`);
        record.age = age;
      } else if (key === 'gsaHumanAccession') record.gsaHumanAccession = parseGsaHumanAccession(value, `row ${i + 2}: column ${columnName(key)}`);
      else (record as any)[key] = value === '' ? null : value;
    });
    if (!record.localPatientId) throw new ClinicalDataError(`row ${i + 2}: patient_id is empty`);
    return record;
  });
}
