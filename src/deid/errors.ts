// DICOM bytes are read through src/dicom; its parse error is the one deid throws.
export { DicomParseError } from '../dicom/errors';
