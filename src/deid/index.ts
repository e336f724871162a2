export { OBIA_DEFAULT_OPTIONS } from './types';
export type { DeidAction, DeidContext, DeidOptions, DeidResult, SourceIdentity } from './types';
export { DicomParseError } from '../dicom/errors';
export { deidentify, readSourceIdentity } from './deidentify';
export { remapUid } from './uids';
export { collectionUidKey, dateOffsetDays, localPatientKey } from './keys';
