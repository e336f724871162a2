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
