/**
 * Thrown when the input cannot be read as DICOM (empty, truncated, not DICOM, or a
 * structure the parser cannot handle). The submission pipeline quarantines the file and
 * shows `reason` to the submitter, so the reason never contains attribute values.
 */
export class DicomParseError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`DICOM parse error: ${reason}`);
    this.name = 'DicomParseError';
    this.reason = reason;
  }
}

/**
 * The file is DICOM-framed (its element structure is sound) but dcmjs could not read the
 * dataset inside it. A DicomParseError, so callers that only care whether a file is readable
 * catch one class; QC tells the two apart to name the finding.
 */
export class DicomDatasetError extends DicomParseError {
  constructor(reason: string) {
    super(reason);
    this.name = 'DicomDatasetError';
  }
}
