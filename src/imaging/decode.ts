import zlib from 'node:zlib';
import { decodeWithCodec, type CodecName } from './codecs';
import { PixelDataError, UnsupportedTransferSyntaxError } from './errors';
import { checkNativeNotTruncated, encapsulatedFrame } from './frames';
import { decodeJpeg } from './jpeg';
import { assertDicomSize, j2kDimensions, jpegFrameHeader } from './limits';
import { parseImage, type ImageAttributes, type ParsedImage } from './parse';
import { toFrameData } from './photometric';
import { assertPixelModule } from './pixelModule';
import { decodeRle } from './rle';
import { maskStored, nativeFrameBits, unpackNative, type NativeLayout, type StoredFrame } from './samples';
import { transferSyntaxInfo } from './transferSyntax';
import { displayOfRawGrey, toDisplay8, type Image8 } from './window';

export interface DecodedFrame {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  photometricInterpretation: string;
  numberOfFrames: number;
  frameIndex: number;
  /** Grey: modality-LUT values, row-major. Colour: interleaved RGB 0..255. */
  data: Float32Array;
  windowCenter: number | null;
  windowWidth: number | null;
}

interface CodecFrame { stored: StoredFrame; bitsStored: number; codecColour: boolean }

function layoutOf(a: ImageAttributes): NativeLayout {
  return {
    rows: a.rows, columns: a.columns, samplesPerPixel: a.samplesPerPixel, bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored, highBit: a.highBit, pixelRepresentation: a.pixelRepresentation,
    planarConfiguration: a.planarConfiguration,
    subsampled422: a.photometricInterpretation === 'YBR_FULL_422' && a.samplesPerPixel === 3,
  };
}

function checkSize(a: ImageAttributes, width: number, height: number, components: number, what: string): void {
  if (width !== a.columns || height !== a.rows || components !== a.samplesPerPixel) {
    throw new PixelDataError(`${what} decoded ${width}x${height}x${components}, header says ${a.columns}x${a.rows}x${a.samplesPerPixel}`);
  }
}

/** The encodings whose codestream declares its own size, by the name an error gives them. */
const STREAM_NAMES: Record<string, string> = { jpeg: 'JPEG', jpegls: 'JPEG-LS', j2k: 'JPEG 2000', htj2k: 'HTJ2K' };

/**
 * A codestream carries its own image size, and that is what a decoder allocates for, not the
 * DICOM header's Rows and Columns (which the limits checked). A frame whose stream declares
 * another size is refused before decoding: a 100 KB JPEG Lossless frame declaring 30,000 ×
 * 30,000 under a 256 × 1,024 header took 20 s and 3.6 GB in the decoder before checkSize
 * refused what it made (JPEG-LS: 4.7 s, 1.8 GB).
 */
function checkDeclaredSize(frame: Uint8Array, encoding: string, a: ImageAttributes): void {
  const what = STREAM_NAMES[encoding];
  if (!what) return;
  const size = encoding === 'jpeg' || encoding === 'jpegls' ? jpegFrameHeader(frame) : j2kDimensions(frame);
  // No size to read (a stream the decoder will refuse itself) or a JPEG height left to a DNL marker.
  if (!size || size.height === 0) return;
  if (size.width !== a.columns || size.height !== a.rows) {
    throw new PixelDataError(`the ${what} stream declares ${size.width}x${size.height}, the header ${a.columns}x${a.rows}`);
  }
}

/**
 * Compressed decoders return unsigned samples; signed images need two's complement restored
 * from BitsStored (JPEG, JPEG-LS). J2K codestreams carry their own signedness.
 */
function fromUnsigned(values: Uint8Array | Uint16Array, a: ImageAttributes, bits: number): Uint8Array | Uint16Array | Int32Array {
  if (a.pixelRepresentation !== 1) return values;
  const stored = Math.min(a.bitsStored, bits);
  return maskStored(values, stored, stored - 1, true);
}

function viewSamples(bytes: Uint8Array, bits: number, signed: boolean): Uint8Array | Int8Array | Uint16Array | Int16Array {
  if (bits <= 8) return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const n = aligned.length >> 1;
  return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, n) : new Uint16Array(aligned.buffer, aligned.byteOffset, n);
}

async function decodeJpegFamily(frame: Uint8Array, a: ImageAttributes): Promise<CodecFrame> {
  // libjpeg-turbo's 8-bit build covers baseline/progressive 8-bit and does YCbCr→RGB itself;
  // 12-bit extended and lossless (SOF3) go to the built-in decoder.
  const sof = jpegFrameHeader(frame);
  const base = { rows: a.rows, columns: a.columns, samplesPerPixel: a.samplesPerPixel, planar: false };
  if (sof && sof.marker !== 0xc3 && sof.precision === 8) {
    const out = await decodeWithCodec('libjpeg-turbo', frame);
    checkSize(a, out.info.width, out.info.height, out.info.componentCount, 'JPEG');
    return { stored: { ...base, values: fromUnsigned(out.pixels, a, 8) }, bitsStored: 8, codecColour: out.info.componentCount === 3 };
  }
  const img = decodeJpeg(frame, { width: a.columns, height: a.rows, components: a.samplesPerPixel });
  checkSize(a, img.width, img.height, img.components, 'JPEG');
  return { stored: { ...base, values: fromUnsigned(img.data, a, img.precision) }, bitsStored: Math.min(a.bitsStored, img.precision), codecColour: false };
}

/** Number of wavelet decomposition levels, from the COD marker of a J2K/HTJ2K main header. */
export function j2kDecompositionLevels(cs: Uint8Array): number {
  let p = 2;
  while (p + 4 <= cs.length && cs[p] === 0xff) {
    const marker = cs[p + 1];
    if (marker === 0x52) return p + 9 < cs.length ? cs[p + 9] : 0;
    if (marker === 0x90 || marker === 0x93) return 0; // reached tile data without a COD
    p += 2 + ((cs[p + 2] << 8) | cs[p + 3]);
  }
  return 0;
}

/**
 * The largest wavelet level whose image still has its longest side >= maxSize: thumbnails of
 * big J2K radiographs then decode only the low-resolution subbands (roughly 2^level² less work).
 */
function resolutionLevelFor(frame: Uint8Array, a: ImageAttributes, maxSize: number | undefined): number {
  if (!maxSize) return 0;
  const levels = j2kDecompositionLevels(frame);
  let level = 0;
  while (level < levels && Math.ceil(Math.max(a.rows, a.columns) / 2 ** (level + 1)) >= maxSize) level++;
  return level;
}

async function decodeWasm(name: CodecName, frame: Uint8Array, a: ImageAttributes, level = 0): Promise<CodecFrame> {
  const out = await decodeWithCodec(name, frame, level);
  const { info } = out;
  checkSize(a, info.width, info.height, info.componentCount, name);
  const base = { rows: a.rows, columns: a.columns, samplesPerPixel: a.samplesPerPixel, planar: false };
  if (name === 'charls') {
    // CharLS returns unsigned samples; interleave mode 0 means component planes.
    const values = fromUnsigned(viewSamples(out.pixels, info.bitsPerSample, false) as Uint8Array | Uint16Array, a, info.bitsPerSample);
    return { stored: { ...base, values, planar: info.componentCount === 3 && out.interleaveMode === 0 }, bitsStored: Math.min(a.bitsStored, info.bitsPerSample), codecColour: false };
  }
  // OpenJPEG/OpenJPH apply the codestream's component transform (RCT/ICT), so YBR_RCT/ICT arrive as RGB.
  const values = viewSamples(out.pixels, info.bitsPerSample, !!info.isSigned);
  const colourTransformed = info.componentCount === 3 && (['YBR_RCT', 'YBR_ICT'].includes(a.photometricInterpretation) || !!info.isUsingColorTransform);
  return { stored: { ...base, values }, bitsStored: info.bitsPerSample, codecColour: colourTransformed };
}

/**
 * A Deflated Image Frame (raw deflate, or zlib-wrapped as some writers do), inflated to at most
 * the frame's size by the header: a run of zeros deflates a thousandfold, so without the bound a
 * small frame could inflate to whatever memory allows.
 */
function inflateFrame(frame: Uint8Array, maxBytes: number): Uint8Array {
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    return zlib.inflateRawSync(frame, options);
  } catch (raw) {
    try {
      return zlib.inflateSync(frame, options);
    } catch (e) {
      const tooLarge = [raw, e].some((x) => (x as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE');
      throw new PixelDataError(tooLarge ? `deflated frame inflates past the ${maxBytes} bytes its header declares` : `deflated frame does not inflate: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

/**
 * Decodes one frame (default: the middle one) of a DICOM Part 10 file (files without File Meta
 * are accepted too). Throws UnsupportedTransferSyntaxError, PixelDataError, or FrameIndexError (a
 * RangeError) for a bad frameIndex; anything unexpected from a decoder is reported as PixelDataError so callers
 * (ingest, HTTP) need to handle exactly these.
 */
export async function decodeFrame(part10: Uint8Array, frameIndex?: number): Promise<DecodedFrame> {
  return decodeFrameAtSize(part10, frameIndex);
}

/**
 * Like decodeFrame, but JPEG 2000/HTJ2K frames may come back at a reduced resolution (rows and
 * columns then describe the reduced image) as long as the longest side stays >= maxSize.
 * Meant for thumbnails and previews, never for analysis.
 */
export async function decodeFrameAtSize(part10: Uint8Array, frameIndex?: number, maxSize?: number): Promise<DecodedFrame> {
  let parsed: ParsedImage;
  try {
    parsed = parseImage(part10, frameIndex);
  } catch (e) {
    throw decodeFailure(e);
  }
  return decodeParsed(parsed, frameIndex, maxSize);
}

/** Decodes one frame (default: the middle one) of an image parsed already (see imageFromHeader). */
export async function decodeParsed(parsed: ParsedImage, frameIndex?: number, maxSize?: number): Promise<DecodedFrame> {
  try {
    return await decodeParsedUnchecked(parsed, frameIndex, maxSize);
  } catch (e) {
    throw decodeFailure(e);
  }
}

/**
 * 8-bit display values of one frame (default: the middle one), the same bytes as
 * toDisplay8(await decodeParsed(parsed)). Windowed native little-endian grey, which is most of
 * an archive (CT, MR), goes through a lookup table without a float frame; anything else, or a
 * window that paints the frame one colour, takes the general path. `into` lends the buffer
 * the table path writes to (see displayOfRawGrey).
 */
export async function displayParsed(parsed: ParsedImage, frameIndex?: number, into?: (size: number) => Uint8Array): Promise<Image8> {
  const a = parsed.attrs;
  assertDicomSize(a);
  const ts = transferSyntaxInfo(parsed.transferSyntaxUid);
  assertPixelModule(parsed.pixelModule, ts.uid);
  const index = frameIndex ?? Math.floor((a.numberOfFrames - 1) / 2);
  const grey = a.samplesPerPixel === 1 && (a.photometricInterpretation === 'MONOCHROME2' || a.photometricInterpretation === 'MONOCHROME1');
  if (ts.encoding === 'native' && !ts.bigEndian && grey && (a.bitsAllocated === 8 || a.bitsAllocated === 16)
    && a.windowCenter !== null && a.windowWidth !== null && a.windowWidth > 0 && Number.isInteger(index) && index >= 0 && index < a.numberOfFrames) {
    const item = parsed.pixelItems[0];
    const count = a.rows * a.columns;
    const start = item.byteOffset + index * count * (a.bitsAllocated / 8);
    const end = start + count * (a.bitsAllocated / 8);
    if (end <= item.byteOffset + item.length && (a.bitsAllocated === 8 || start % 2 === 0) && count > 0) {
      if (parsed.source && ts.uid !== '1.2.840.10008.1.2.1.99') checkNativeNotTruncated(parsed.source, item.length, false, ts.uid === '1.2.840.10008.1.2');
      const raw = a.bitsAllocated === 8 ? new Uint8Array(item.buffer, start, count) : new Uint16Array(item.buffer, start, count);
      const display = displayOfRawGrey({
        rows: a.rows, columns: a.columns, raw, bitsAllocated: a.bitsAllocated as 8 | 16, bitsStored: a.bitsStored, highBit: a.highBit,
        signed: a.pixelRepresentation === 1, rescaleSlope: a.rescaleSlope, rescaleIntercept: a.rescaleIntercept,
        windowCenter: a.windowCenter, windowWidth: a.windowWidth, monochrome1: a.photometricInterpretation === 'MONOCHROME1',
      }, into);
      if (display) return display;
    }
  }
  return toDisplay8(await decodeParsed(parsed, frameIndex));
}

/**
 * A frame index outside the image: the one RangeError decoding throws on purpose (a caller's
 * argument, not the file's fault). Any other RangeError is a decoder's (a typed array too large
 * or out of bounds) and, like everything else a decoder throws, becomes a PixelDataError.
 */
export class FrameIndexError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'FrameIndexError';
  }
}

/**
 * Callers handle exactly these three; anything else a decoder throws is a PixelDataError. A
 * RangeError passed through untouched once, and screening took it for a bad frame index: a
 * corrupt JPEG that made the decoder ask for 20 billion samples passed QC (test/dicom/fuzz).
 */
function decodeFailure(e: unknown): Error {
  if (e instanceof PixelDataError || e instanceof UnsupportedTransferSyntaxError || e instanceof FrameIndexError) return e;
  return new PixelDataError(`failed to decode pixel data: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Stored sample values of one frame (before any LUT), as the codec or native layout gives them. */
export interface StoredFrameOf {
  stored: StoredFrame;
  bitsStored: number;
  /** The codec turned YBR into RGB already: the samples are RGB whatever the header says. */
  codecColour: boolean;
}

/**
 * The stored values of one frame at full resolution (no modality or display LUT): what a
 * caller that edits pixels (burned-in text redaction) re-encodes. Throws as decodeParsed does.
 */
export async function decodeStoredFrame(parsed: ParsedImage, frameIndex: number): Promise<StoredFrameOf> {
  try {
    const { decoded } = await storedFrame(parsed, frameIndex);
    return decoded;
  } catch (e) {
    throw decodeFailure(e);
  }
}

async function decodeParsedUnchecked(parsed: ParsedImage, frameIndex?: number, maxSize?: number): Promise<DecodedFrame> {
  const { decoded, a, index } = await storedFrame(parsed, frameIndex, maxSize);
  const { data, samplesPerPixel } = toFrameData(decoded.stored, a, decoded.bitsStored, decoded.codecColour);
  return {
    rows: a.rows,
    columns: a.columns,
    samplesPerPixel,
    photometricInterpretation: a.photometricInterpretation,
    numberOfFrames: a.numberOfFrames,
    frameIndex: index,
    data,
    windowCenter: samplesPerPixel === 1 ? a.windowCenter : null,
    windowWidth: samplesPerPixel === 1 ? a.windowWidth : null,
  };
}

async function storedFrame(parsed: ParsedImage, frameIndex?: number, maxSize?: number): Promise<{ decoded: CodecFrame; a: ImageAttributes; index: number }> {
  let a = parsed.attrs;
  // From the header, before any decoder allocates: see limits.ts.
  assertDicomSize(a);
  const ts = transferSyntaxInfo(parsed.transferSyntaxUid);
  // What QC screens by (UNSUPPORTED_PIXEL_MODULE): one definition, so nothing archived is refused here.
  assertPixelModule(parsed.pixelModule, ts.uid);
  const index = frameIndex ?? Math.floor((a.numberOfFrames - 1) / 2);
  if (!Number.isInteger(index) || index < 0 || index >= a.numberOfFrames) {
    throw new FrameIndexError(`frame index ${index} out of range 0..${a.numberOfFrames - 1}`);
  }
  let decoded: CodecFrame;
  if (ts.encoding === 'native') {
    const item = parsed.pixelItems[0];
    if (parsed.source && ts.uid !== '1.2.840.10008.1.2.1.99') checkNativeNotTruncated(parsed.source, item.length, ts.bigEndian, ts.uid === '1.2.840.10008.1.2');
    decoded = { stored: unpackNative(item, layoutOf(a), index, ts.bigEndian), bitsStored: a.bitsStored, codecColour: false };
  } else {
    const frame = encapsulatedFrame(parsed.pixelItems, a.numberOfFrames, index, ts.encoding);
    checkDeclaredSize(frame, ts.encoding, a);
    switch (ts.encoding) {
      case 'rle': {
        const bytes = decodeRle(frame, a.rows, a.columns, a.samplesPerPixel, a.bitsAllocated);
        const layout = { ...layoutOf(a), planarConfiguration: 1, subsampled422: false };
        decoded = { stored: unpackNative(bytes, layout, 0, false), bitsStored: a.bitsStored, codecColour: false };
        break;
      }
      case 'deflatedFrame': {
        const layout = layoutOf(a);
        decoded = { stored: unpackNative(inflateFrame(frame, Math.ceil(nativeFrameBits(layout) / 8)), layout, 0, false), bitsStored: a.bitsStored, codecColour: false };
        break;
      }
      case 'jpeg':
        decoded = await decodeJpegFamily(frame, a);
        break;
      case 'jpegls':
        decoded = await decodeWasm('charls', frame, a);
        break;
      case 'j2k':
      case 'htj2k': {
        const level = resolutionLevelFor(frame, a, maxSize);
        if (level > 0) a = { ...a, rows: Math.ceil(a.rows / 2 ** level), columns: Math.ceil(a.columns / 2 ** level) };
        decoded = await decodeWasm(ts.encoding === 'j2k' ? 'openjpeg' : 'openjph', frame, a, level);
        break;
      }
    }
  }
  return { decoded, a, index };
}
