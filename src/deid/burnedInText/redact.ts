import { decodeStoredFrame, parseImage, type ParsedImage } from '../../imaging';
import { dcmjs, EXPLICIT_LE, frame, text, type DicomDataset } from '../../dicom';
import type { Box } from './ocrEngine';

export class RedactionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedactionError';
  }
}

const CLEAN_PIXEL_DATA = { '00080100': '113101', '00080102': 'DCM', '00080104': 'Clean Pixel Data Option' };

/** The sample value that shows as black (blank) in this photometric interpretation, per sample. */
function blankValues(photometric: string, values: ArrayLike<number>, spp: number): number[] {
  if (spp === 3) return photometric.startsWith('YBR') ? [0, 128, 128] : [0, 0, 0];
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return [0];
  // The frame's own darkest value: zero is mid-grey in signed CT and white in MONOCHROME1.
  return [photometric === 'MONOCHROME1' ? max : min];
}

function fillBoxes(values: { [i: number]: number; length: number }, rows: number, cols: number, spp: number, planar: boolean, boxes: Box[], fill: number[]): void {
  for (const b of boxes) {
    const x0 = Math.max(0, Math.floor(b.x)), x1 = Math.min(cols, Math.ceil(b.x + b.w));
    const y0 = Math.max(0, Math.floor(b.y)), y1 = Math.min(rows, Math.ceil(b.y + b.h));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        for (let s = 0; s < spp; s++) {
          const i = planar ? s * rows * cols + y * cols + x : (y * cols + x) * spp + s;
          values[i] = fill[s];
        }
      }
    }
  }
}

/**
 * Blanks the boxes in every frame and writes the image back as native Explicit VR Little
 * Endian: whatever the transfer syntax was (native, RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K,
 * deflated), the pixels are decoded, blanked and stored uncompressed, which is lossless with
 * respect to what was decoded. The de-identification record says what was done: Burned In
 * Annotation NO, Clean Pixel Data Option in the method code sequence, and a line in
 * De-identification Method.
 */
export async function redactBoxes(part10: Uint8Array, boxes: Box[], note: string): Promise<{ output: Buffer; transferSyntaxUid: string }> {
  let parsed: ParsedImage;
  let file: { meta: DicomDataset; dict: DicomDataset };
  try {
    parsed = parseImage(part10);
    const ab = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
    file = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: false });
  } catch (e) {
    throw new RedactionError(`the image could not be read for redaction: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`);
  }
  const a = parsed.attrs;
  const { rows, columns: cols, numberOfFrames } = a;
  if (a.bitsAllocated !== 8 && a.bitsAllocated !== 16) throw new RedactionError(`cannot re-encode BitsAllocated ${a.bitsAllocated}`);
  if (a.samplesPerPixel !== 1 && a.samplesPerPixel !== 3) throw new RedactionError(`cannot re-encode SamplesPerPixel ${a.samplesPerPixel}`);
  const bytesPer = a.bitsAllocated / 8;
  const spp = a.samplesPerPixel;
  const frameSamples = rows * cols * spp;
  const out = Buffer.alloc(frameSamples * bytesPer * numberOfFrames + ((frameSamples * bytesPer * numberOfFrames) % 2));
  let photometric = a.photometricInterpretation;
  let planar = false;
  for (let f = 0; f < numberOfFrames; f++) {
    const { stored, codecColour } = await decodeStoredFrame(parsed, f);
    if (stored.values.length !== frameSamples) {
      // Subsampled YBR (4:2:2 / 4:2:0) native data does not unpack to one sample per pixel.
      throw new RedactionError(`frame ${f} decoded to ${stored.values.length} samples, expected ${frameSamples} (${a.photometricInterpretation})`);
    }
    if (codecColour) photometric = 'RGB';
    else if (/^YBR_(FULL_422|PARTIAL)/.test(photometric)) throw new RedactionError(`cannot re-encode ${photometric} without its codec's colour conversion`);
    planar = spp === 3 && stored.planar;
    // Copy: native little-endian frames are views of the file's bytes.
    const values = Array.from(stored.values);
    fillBoxes(values, rows, cols, spp, planar, boxes, blankValues(photometric, values, spp));
    const base = f * frameSamples * bytesPer;
    const mask = (1 << a.bitsAllocated) - 1;
    if (bytesPer === 1) for (let i = 0; i < frameSamples; i++) out[base + i] = values[i] & mask;
    else for (let i = 0; i < frameSamples; i++) out.writeUInt16LE(values[i] & mask, base + 2 * i);
  }
  const ds = file.dict;
  ds['7FE00010'] = { vr: a.bitsAllocated > 8 ? 'OW' : 'OB', Value: [out.buffer.slice(out.byteOffset, out.byteOffset + out.length)] };
  ds['00280004'] = { vr: 'CS', Value: [photometric] };
  if (spp === 3) ds['00280006'] = { vr: 'US', Value: [planar ? 1 : 0] };
  // Stored values were unpacked to the low bits (and overlay bits above BitsStored dropped).
  ds['00280102'] = { vr: 'US', Value: [a.bitsStored - 1] };
  ds['00280301'] = { vr: 'CS', Value: ['NO'] };
  const method = (ds['00120063']?.Value ?? []).filter((v): v is string => typeof v === 'string');
  ds['00120063'] = { vr: 'LO', Value: [...method, note.slice(0, 64)] };
  const codes = (ds['00120064']?.Value ?? []) as DicomDataset[];
  if (!codes.some((c) => text(c['00080100']?.Value) === CLEAN_PIXEL_DATA['00080100'])) {
    codes.push({
      '00080100': { vr: 'SH', Value: [CLEAN_PIXEL_DATA['00080100']] },
      '00080102': { vr: 'SH', Value: [CLEAN_PIXEL_DATA['00080102']] },
      '00080104': { vr: 'LO', Value: [CLEAN_PIXEL_DATA['00080104']] },
    });
  }
  ds['00120064'] = { vr: 'SQ', Value: codes };
  const meta: DicomDataset = { ...file.meta, '00020010': { vr: 'UI', Value: [EXPLICIT_LE] } };
  delete meta['00020000'];
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = ds;
  const output = Buffer.from(dict.write({ allowInvalidVRLength: true }));
  try {
    frame(output);
  } catch (e) {
    throw new RedactionError(`the redacted image does not parse again: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`);
  }
  return { output, transferSyntaxUid: EXPLICIT_LE };
}
