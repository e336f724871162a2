// The one dcmjs typing lives in src/dicom; deid's modules import it through this name.
export { dcmjs, dictionaryKeyword, dictionaryVr, type DicomDataset, type DicomDictInstance, type DicomElement } from '../dicom/dcmjs';
