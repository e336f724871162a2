/** The file's transfer syntax names a compression this module cannot decode. */
export class UnsupportedTransferSyntaxError extends Error {
  readonly transferSyntaxUid: string;
  constructor(transferSyntaxUid: string, detail?: string) {
    super(`unsupported transfer syntax ${transferSyntaxUid || '(none)'}${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedTransferSyntaxError';
    this.transferSyntaxUid = transferSyntaxUid;
  }
}

/** Pixel data is absent, shorter than its attributes promise, or fails to decode. */
export class PixelDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PixelDataError';
  }
}

/**
 * The file holds no Pixel Data at all (a structured report, a presentation state): nothing to
 * decode or serve as frames. A PixelDataError, so every caller that survives a bad frame survives
 * this one; DICOMweb answers it 404, as a request for pixels the instance does not have.
 */
export class NoPixelDataError extends PixelDataError {
  constructor() {
    super('no pixel data');
    this.name = 'NoPixelDataError';
  }
}
