// Framing moved to src/dicom, the one front door for DICOM bytes. Kept so code written
// against this path still builds; new code imports '../dicom'.
export { frame, type FramedFile } from '../dicom/framing';
export { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from '../dicom/transferSyntax';
