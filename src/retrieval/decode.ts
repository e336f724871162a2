import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import sharp from 'sharp';
import { decodeFrame, toGray8 } from '../imaging/index';
import { assertRasterSize } from '../imaging/limits';
import type { Gray8Image } from './preprocess';

export type ImageFormat = 'png' | 'jpeg' | 'dicom';

export class ImageDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageDecodeError';
  }
}

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return 'dicom';
  return undefined;
}

/**
 * ITU-R BT.601 luma in integers. It is the identity on grey pixels (R=G=B), which is
 * what jpeg-js and pngjs hand back for single-channel files.
 */
function rgbaToGray(width: number, height: number, rgba: Uint8Array): Gray8Image {
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    const y = Math.floor((299 * rgba[p] + 587 * rgba[p + 1] + 114 * rgba[p + 2] + 500) / 1000);
    const a = rgba[p + 3];
    // Transparent regions carry arbitrary colour; compositing over black makes them deterministic.
    out[i] = a === 255 ? y : Math.floor((y * a + 127) / 255);
  }
  return { width, height, data: out };
}

export function decodePng(bytes: Uint8Array): Gray8Image {
  // Refused from the header, before the decoder allocates width × height × 4 bytes.
  try { assertRasterSize('png', bytes); } catch (e) { throw new ImageDecodeError((e as Error).message, { cause: e }); }
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return rgbaToGray(png.width, png.height, png.data);
  } catch (e) {
    throw new ImageDecodeError(`PNG decode failed: ${(e as Error).message}`, { cause: e });
  }
}

// libvips decodes on libuv's pool, off the event loop; the query path asks for one image at a
// time, so one libvips thread per image and no operation cache (nothing is decoded twice).
sharp.concurrency(1);
sharp.cache(false);

/**
 * Below this many pixels a JPEG decodes in jpeg-js, above it in libvips (sharp). Measured on this
 * machine kind (CPU per decode, 200–500 decodes each): a 64×64 Medical MNIST file costs 0.31 ms in
 * jpeg-js and 1.8 ms in sharp (libvips' per-call setup); a 512×512 MR slice 9.4 ms in jpeg-js and
 * 2.3 ms in sharp (libjpeg-turbo). The two meet near 200×200.
 */
const SHARP_FROM_PIXELS = 200 * 200;

/**
 * JPEG → 8-bit grey. Small files through jpeg-js (synchronous, cheap); larger ones through
 * libvips' libjpeg-turbo (sharp), off the event loop — a 512×512 upload's decode was most of a
 * similarImages query's CPU. Grey files stay one band; colour ones go through rgbaToGray like
 * PNGs. The two decoders' pixels differ by ±1 on ~3 % (their IDCTs differ; test/retrieval/decode).
 */
export async function decodeJpeg(bytes: Uint8Array): Promise<Gray8Image> {
  let size;
  try { size = assertRasterSize('jpeg', bytes); } catch (e) { throw new ImageDecodeError((e as Error).message, { cause: e }); }
  try {
    if (size && size.width * size.height < SHARP_FROM_PIXELS) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 200 });
      return rgbaToGray(img.width, img.height, img.data);
    }
    const image = sharp(bytes, { failOn: 'error', limitInputPixels: 200e6 });
    const { channels } = await image.metadata();
    if (channels === 1) {
      const { data, info } = await image.toColourspace('b-w').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    }
    const { data, info } = await image.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return rgbaToGray(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    throw new ImageDecodeError(`JPEG decode failed: ${(e as Error).message}`, { cause: e });
  }
}

/** DICOM pixels are decoded by src/imaging, which reads the bytes through src/dicom (the front door). */
export async function decodeDicom(bytes: Uint8Array): Promise<Gray8Image> {
  try {
    return toGray8(await decodeFrame(bytes));
  } catch (e) {
    throw new ImageDecodeError(`DICOM decode failed: ${(e as Error).message}`, { cause: e });
  }
}

/** PNG, JPEG or DICOM bytes → 8-bit grey. Files without a DICM preamble are tried as DICOM last. */
export async function decodeImage(bytes: Uint8Array): Promise<Gray8Image> {
  switch (sniffFormat(bytes)) {
    case 'png':
      return decodePng(bytes);
    case 'jpeg':
      return decodeJpeg(bytes);
    case 'dicom':
      return decodeDicom(bytes);
    default:
      try {
        return await decodeDicom(bytes);
      } catch (e) {
        throw new ImageDecodeError(`not PNG or JPEG, and not readable as DICOM (${(e as Error).message})`, { cause: e });
      }
  }
}

export async function decodeImageFile(path: string): Promise<Gray8Image> {
  const bytes = await readFile(path);
  return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
