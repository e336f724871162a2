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
