import { dictionaryTag, dictionaryVr } from '../dicom/index.js';
import { Sex } from '../domain.js';

/** The three QIDO-RS levels (PS3.18 10.6). */
export type Level = 'study' | 'series' | 'instance';

/** How an attribute's query value is matched (PS3.4 C.2.2.2). */
export type Matching = 'uid' | 'string' | 'person' | 'date' | 'number' | 'modalities' | 'sex' | 'age';

/**
 * One attribute QIDO-RS can match on or return, and where the archive keeps it. Column
 * expressions are over the aliases the query joins: `c` collection, `i` individual, `st`
 * study, `s` series, `im` image.
 */
export interface Attribute {
  tag: string;
  keyword: string;
  vr: string;
  level: Level;
  /** SQL expression holding the value; null for an attribute returned but not held (always empty). */
  column: string | null;
  matching: Matching | null;
  /** Returned without includefield at this level (PS3.18 Table 10.6.3-3..5). */
  byDefault: boolean;
}

const a = (tag: string, keyword: string, vr: string, level: Level, column: string | null, matching: Matching | null, byDefault = true): Attribute =>
  ({ tag, keyword, vr, level, column, matching, byDefault });

/**
 * The attributes held in the archive's own tables. The archive's identifiers stand in the
 * standard attributes: PatientID (and the de-identified PatientName) is the Individual
 * accession, AccessionNumber and StudyID the Study accession, and the collection accession is
 * ClinicalTrialProtocolID (as TCIA-style archives name the collection a subject belongs to),
 * so a client can filter a collection with `00120020=OBIA0002`.
 */
export const ATTRIBUTES: readonly Attribute[] = [
  a('00080005', 'SpecificCharacterSet', 'CS', 'study', null, null),
  a('00080020', 'StudyDate', 'DA', 'study', 'st.study_date', 'date'),
  a('00080030', 'StudyTime', 'TM', 'study', null, null),
  a('00080050', 'AccessionNumber', 'SH', 'study', 'st.accession', 'string'),
  a('00080061', 'ModalitiesInStudy', 'CS', 'study', 'st.modalities', 'modalities'),
  a('00080090', 'ReferringPhysicianName', 'PN', 'study', null, null),
  a('00081030', 'StudyDescription', 'LO', 'study', 'st.description', 'string'),
  a('00100010', 'PatientName', 'PN', 'study', 'i.accession', 'person'),
  a('00100020', 'PatientID', 'LO', 'study', 'i.accession', 'string'),
  a('00100030', 'PatientBirthDate', 'DA', 'study', null, null),
  a('00100040', 'PatientSex', 'CS', 'study', 'i.sex', 'sex'),
  a('00101010', 'PatientAge', 'AS', 'study', 'st.age_at_study', 'age', false),
  a('00120020', 'ClinicalTrialProtocolID', 'LO', 'study', 'c.accession', 'string'),
  a('0020000D', 'StudyInstanceUID', 'UI', 'study', 'st.study_instance_uid', 'uid'),
  a('00200010', 'StudyID', 'SH', 'study', 'st.accession', 'string'),
  a('00201206', 'NumberOfStudyRelatedSeries', 'IS', 'study', '(select count(*) from series as ns where ns.study_id = st.id)', null),
  a('00201208', 'NumberOfStudyRelatedInstances', 'IS', 'study', '(select coalesce(sum(ns.image_count), 0) from series as ns where ns.study_id = st.id)', null),

  a('00080060', 'Modality', 'CS', 'series', 's.modality', 'string'),
  a('0008103E', 'SeriesDescription', 'LO', 'series', 's.description', 'string'),
  a('00180015', 'BodyPartExamined', 'CS', 'series', 's.anatomical_site', 'string'),
  a('0020000E', 'SeriesInstanceUID', 'UI', 'series', 's.uid', 'uid'),
  a('00200011', 'SeriesNumber', 'IS', 'series', 's.series_number', 'number'),
  a('00201209', 'NumberOfSeriesRelatedInstances', 'IS', 'series', 's.image_count', null),

  a('00080016', 'SOPClassUID', 'UI', 'instance', 'im.sop_class_uid', 'uid'),
  a('00080018', 'SOPInstanceUID', 'UI', 'instance', 'im.uid', 'uid'),
  a('00083002', 'AvailableTransferSyntaxUID', 'UI', 'instance', 'im.transfer_syntax_uid', 'uid'),
  a('00200013', 'InstanceNumber', 'IS', 'instance', 'im.instance_number', 'number'),
  a('00280008', 'NumberOfFrames', 'IS', 'instance', 'im.frames', 'number'),
  a('00280010', 'Rows', 'US', 'instance', 'im.rows', 'number'),
  a('00280011', 'Columns', 'US', 'instance', 'im.columns', 'number'),
  a('00280100', 'BitsAllocated', 'US', 'instance', 'im.bits_allocated', 'number'),
];

const byTag = new Map(ATTRIBUTES.map((x) => [x.tag, x]));
const byKeyword = new Map(ATTRIBUTES.map((x) => [x.keyword.toLowerCase(), x]));

/** Levels a query at `level` may return or match on: its own and those above it. */
export function levelsUpTo(level: Level): Level[] {
  return level === 'study' ? ['study'] : level === 'series' ? ['study', 'series'] : ['study', 'series', 'instance'];
}

/** A query key (keyword or eight hex digits, either case) as a tag "GGGGEEEE", or null for no attribute. */
export function tagOfKey(key: string): string | null {
  if (/^[0-9a-fA-F]{8}$/.test(key)) return key.toUpperCase();
  const held = byKeyword.get(key.toLowerCase());
  if (held) return held.tag;
  // The data dictionary tells a standard attribute the archive does not hold apart from a key
  // that is no attribute at all (PS3.18: the first is ignored with a warning, the second is a
  // bad request).
  return dictionaryTag(key);
}

export function attributeOf(tag: string): Attribute | undefined {
  return byTag.get(tag);
}

/** Whether a tag names a standard attribute (the dictionary's) or a private one. */
export function isKnownTag(tag: string): boolean {
  return byTag.has(tag) || dictionaryVr(tag) !== undefined || parseInt(tag.slice(0, 4), 16) % 2 === 1;
}

/** The DICOM JSON value of a column value read from the database (PS3.18 F.2). */
export function valueOf(attr: Attribute, raw: unknown): unknown[] | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  switch (attr.vr) {
    case 'DA': return [String(raw).replace(/-/g, '')];
    case 'PN': return [{ Alphabetic: String(raw) }];
    case 'IS': case 'US': return [Number(raw)];
    case 'AS': return [`${String(Math.min(999, Number(raw))).padStart(3, '0')}Y`];
    default:
      if (attr.matching === 'modalities') return (typeof raw === 'string' ? JSON.parse(raw) as string[] : raw as string[]);
      if (attr.matching === 'sex') { const code = SEX_CODE[String(raw)]; return code ? [code] : undefined; }
      return [String(raw)];
  }
}

/** PatientSex codes (PS3.3 C.7.1.1) for the archive's Sex values; UNKNOWN has none. */
export const SEX_CODE: Record<string, string> = { [Sex.FEMALE]: 'F', [Sex.MALE]: 'M', [Sex.OTHER]: 'O' };
