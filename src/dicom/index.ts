// src/dicom: the one front door for DICOM bytes. Framing (a structure check before dcmjs and
// canonical Part 10), the one dcmjs typing, the value helpers and the transfer-syntax UIDs.
// Every module that reads DICOM (deid, imaging, qc, ingest, retrieval) goes through here.
export { dcmjs, dictionaryKeyword, dictionaryTag, dictionaryVr, quietly, silenceDcmjs, type DicomDataset, type DicomDictInstance, type DicomElement } from './dcmjs';
export { DicomDatasetError, DicomParseError } from './errors';
export { elementBudget, frame, type FramedFile, type FrameOptions } from './framing';
export { toDicomJson, type DicomJson, type DicomJsonAttribute, type DicomJsonOptions } from './json';
export { readDicom, type DicomFile, type ReadOptions } from './read';
export * from './transferSyntax';
export * from './values';
