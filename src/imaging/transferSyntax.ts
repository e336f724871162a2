import { UnsupportedTransferSyntaxError } from './errors';
import { stripPadding } from '../dicom/values';

/** How the Pixel Data of a transfer syntax is laid out and which decoder reads it. */
export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg'
  | 'jpegls'
  | 'j2k'
  | 'htj2k'
  | 'deflatedFrame';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  /** Only meaningful for native pixel data; every encapsulated syntax uses LE item headers. */
  bigEndian: boolean;
}

const table: TransferSyntaxInfo[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', encoding: 'native', bigEndian: false },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', encoding: 'native', bigEndian: false },
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian', encoding: 'native', bigEndian: false },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', encoding: 'native', bigEndian: true },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encoding: 'rle', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encoding: 'jpeg', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless (Process 14)', encoding: 'jpeg', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless SV1 (Process 14, predictor 1)', encoding: 'jpeg', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', encoding: 'jpegls', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', encoding: 'jpegls', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Lossless', encoding: 'j2k', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', encoding: 'j2k', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K Lossless', encoding: 'htj2k', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.202', name: 'HTJ2K Lossless RPCL', encoding: 'htj2k', bigEndian: false },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K', encoding: 'htj2k', bigEndian: false },
  { uid: '1.2.840.10008.1.2.8.1', name: 'Deflated Image Frame Compression', encoding: 'deflatedFrame', bigEndian: false },
];

const byUid = new Map(table.map((t) => [t.uid, t]));

export function isSupportedTransferSyntax(uid: string): boolean {
  return byUid.has(stripPadding(uid.trim()).trim());
}

export function transferSyntaxInfo(uid: string): TransferSyntaxInfo {
  const info = byUid.get(stripPadding(uid.trim()).trim());
  if (!info) throw new UnsupportedTransferSyntaxError(uid);
  return info;
}

export function supportedTransferSyntaxes(): readonly TransferSyntaxInfo[] {
  return table;
}
