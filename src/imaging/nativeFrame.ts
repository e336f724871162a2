import { decodeStoredFrame } from './decode';
import { PixelDataError } from './errors';
import type { ParsedImage } from './parse';

/**
 * One frame of a compressed image as uncompressed little-endian samples (BitsAllocated per
 * sample, interleaved colour): what a DICOMweb client asking for frames in Explicit VR Little
 * Endian is sent when the archive holds the instance compressed (PS3.18 8.7.3.5.2: that syntax
 * is the default of application/octet-stream, so a viewer may ask nothing else). Colour a codec
 * converts (JPEG YCbCr, J2K RCT/ICT) comes back RGB, as every decoder gives it.
 */
export async function nativeFrame(parsed: ParsedImage, frameIndex: number): Promise<Buffer> {
  const a = parsed.attrs;
  if (a.bitsAllocated !== 8 && a.bitsAllocated !== 16) throw new PixelDataError(`cannot transcode BitsAllocated ${a.bitsAllocated} to native`);
  const { stored } = await decodeStoredFrame(parsed, frameIndex);
  const spp = stored.samplesPerPixel;
  const pixels = stored.rows * stored.columns;
  if (stored.values.length !== pixels * spp) throw new PixelDataError(`frame ${frameIndex + 1} decoded to ${stored.values.length} samples, expected ${pixels * spp}`);
  const bytesPer = a.bitsAllocated / 8;
  const out = Buffer.alloc(pixels * spp * bytesPer);
  const mask = a.bitsAllocated === 8 ? 0xff : 0xffff;
  const { values } = stored;
  // Planar codec output (JPEG-LS interleave mode 0) is interleaved here, as PlanarConfiguration 0 says.
  const at = stored.planar && spp === 3 ? (i: number) => values[(i % 3) * pixels + Math.floor(i / 3)]! : (i: number) => values[i]!;
  if (bytesPer === 1) for (let i = 0; i < out.length; i++) out[i] = at(i) & mask;
  else for (let i = 0, n = pixels * spp; i < n; i++) out.writeUInt16LE(at(i) & mask, 2 * i);
  return out;
}
