import { stripPadding } from './values';

/** Transfer syntax UIDs (PS3.5 §10, PS3.6 Annex A) the archive names in code. */
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
export const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
export const JPEG_LOSSLESS = '1.2.840.10008.1.2.4.57';
export const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';
export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
export const JPEG_LS_NEAR_LOSSLESS = '1.2.840.10008.1.2.4.81';
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
export const JPEG_2000 = '1.2.840.10008.1.2.4.91';
export const HTJ2K_LOSSLESS = '1.2.840.10008.1.2.4.201';
export const HTJ2K_LOSSLESS_RPCL = '1.2.840.10008.1.2.4.202';
export const HTJ2K = '1.2.840.10008.1.2.4.203';
export const DEFLATED_IMAGE_FRAME = '1.2.840.10008.1.2.8.1';

/** The three uncompressed syntaxes whose Pixel Data is the raw samples. */
export const NATIVE_SYNTAXES: ReadonlySet<string> = new Set([IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE]);

/** A UID as read from a file (UI values are NUL-padded to even length, some writers pad with spaces). */
export function cleanUid(uid: string | null | undefined): string {
  return stripPadding(uid ?? '').trim();
}
