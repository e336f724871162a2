import { binaryBytes, tagDecimal, tagText, type DicomDataset } from '../dicom';
import { PixelDataError } from './errors';
import { isSupportedTransferSyntax, transferSyntaxInfo } from './transferSyntax';

/** One of the Red, Green and Blue Palette Color Lookup Tables, as the header states it. */
export interface PaletteLutFacts {
  /** The descriptor's values (entries, first mapped, bits per entry); null when absent. */
  descriptor: number[] | null;
  /** Bytes of the Palette Color Lookup Table Data, or of the Segmented data when that is given instead; 0 when neither is. */
  dataBytes: number;
  segmented: boolean;
}

/**
 * The Image Pixel Module (PS3.3 C.7.6.3) as the header states it, before the defaults and
 * clamps of parse.ts: null where an attribute is absent. Only numbers and lengths, so QC can
 * carry it across threads.
 */
export interface PixelModule {
  samplesPerPixel: number | null;
  photometricInterpretation: string | null;
  bitsAllocated: number | null;
  bitsStored: number | null;
  highBit: number | null;
  pixelRepresentation: number | null;
  planarConfiguration: number | null;
  /** Red, Green, Blue: read only for PALETTE COLOR (a supplemental palette of a grey image is not the pixel module's). */
  palette: PaletteLutFacts[] | null;
}

const PALETTE = [['Red', '00281101', '00281201', '00281221'], ['Green', '00281102', '00281202', '00281222'], ['Blue', '00281103', '00281203', '00281223']] as const;

function lengthOf(ds: DicomDataset, tag: string): number {
  const v = ds[tag]?.Value;
  return Array.isArray(v) && v.length > 0 ? binaryBytes(v).length : 0;
}

/** The pixel module of a tag-keyed dataset (a header-only parse holds all of it). */
export function readPixelModule(ds: DicomDataset): PixelModule {
  const photometricInterpretation = tagText(ds, '00280004')?.toUpperCase() ?? null;
  return {
    samplesPerPixel: tagDecimal(ds, '00280002'),
    photometricInterpretation,
    bitsAllocated: tagDecimal(ds, '00280100'),
    bitsStored: tagDecimal(ds, '00280101'),
    highBit: tagDecimal(ds, '00280102'),
    pixelRepresentation: tagDecimal(ds, '00280103'),
    planarConfiguration: tagDecimal(ds, '00280006'),
    palette: photometricInterpretation !== 'PALETTE COLOR' ? null : PALETTE.map(([, desc, data, seg]) => {
      const d = ds[desc]?.Value;
      const descriptor = Array.isArray(d) && d.length >= 3 && d.slice(0, 3).every((x) => Number.isFinite(Number(x))) ? d.slice(0, 3).map(Number) : null;
      const segmented = lengthOf(ds, seg);
      return { descriptor, dataBytes: segmented || lengthOf(ds, data), segmented: segmented > 0 };
    }),
  };
}

/** BitsAllocated the decoders unpack (samples.ts); PS3.5 8.1.1 allows 1 or any multiple of 8. */
const BITS_ALLOCATED = [1, 8, 16, 32];
// Subsampled partial-range YCbCr is defined for compressed streams only (PS3.3 C.7.6.3.1.2);
// native pixel data unpacks as YBR_FULL_422 or three full samples.
const COMPRESSED_ONLY_PHOTOMETRIC = ['YBR_PARTIAL_420', 'YBR_PARTIAL_422'];

function paletteProblem(m: PixelModule): string | null {
  if (m.samplesPerPixel !== null && m.samplesPerPixel !== 1) return `PALETTE COLOR with SamplesPerPixel ${m.samplesPerPixel}: a palette indexes one sample per pixel`;
  for (const [i, [colour]] of PALETTE.entries()) {
    const lut = m.palette?.[i];
    if (!lut?.descriptor) return `PALETTE COLOR without a usable ${colour} Palette Color Lookup Table Descriptor`;
    if (lut.dataBytes === 0) return `PALETTE COLOR without ${colour} Palette Color Lookup Table Data`;
    const [first, , bits] = lut.descriptor;
    const entries = first === 0 ? 65536 : first;
    if (!Number.isInteger(entries) || entries < 0 || entries > 65536) return `the ${colour} palette descriptor declares ${entries} entries`;
    if (bits !== 8 && bits !== 16) return `the ${colour} palette descriptor declares ${bits} bits per entry; PS3.3 allows 8 or 16`;
    if (!lut.segmented && lut.dataBytes < (entries * bits) / 8) {
      return `the ${colour} palette holds ${lut.dataBytes} bytes; its descriptor declares ${entries} entries of ${bits} bits`;
    }
  }
  return null;
}

/**
 * Why the archive cannot render pixels with this pixel module, or null when it can. The one
 * definition of a renderable pixel module: decode.ts refuses these before decoding and QC
 * quarantines them before archiving (UNSUPPORTED_PIXEL_MODULE), so no image is archived that
 * the renderer then refuses. Absent attributes take the renderer's defaults (parse.ts); a
 * missing Rows, Columns or BitsAllocated is refused by both before this is asked.
 */
export function pixelModuleProblem(m: PixelModule, transferSyntaxUid: string): string | null {
  const spp = m.samplesPerPixel ?? 1;
  if (spp !== 1 && spp !== 3) return `SamplesPerPixel ${spp}: images have 1 (grey or palette) or 3 (colour) samples per pixel`;
  const ba = m.bitsAllocated;
  if (ba === null || !BITS_ALLOCATED.includes(ba)) return `BitsAllocated ${ba ?? '(none)'}: samples are unpacked from 1, 8, 16 or 32 bits (PS3.5 8.1.1: 1 or a multiple of 8)`;
  const bs = m.bitsStored ?? ba;
  if (!Number.isInteger(bs) || bs < 1 || bs > ba) return `BitsStored ${bs} with BitsAllocated ${ba}: a sample stores 1 to BitsAllocated bits`;
  // PS3.3 C.7.6.3 asks HighBit = BitsStored - 1; older writers align the sample high in its word
  // instead, which decoding shifts out (maskStored). A sample outside its word is no layout at all.
  const hb = m.highBit ?? bs - 1;
  if (!Number.isInteger(hb) || hb < bs - 1 || hb > ba - 1) return `HighBit ${hb} with BitsStored ${bs} and BitsAllocated ${ba}: the stored bits do not fit in the allocated ones`;
  if (m.pixelRepresentation !== null && m.pixelRepresentation !== 0 && m.pixelRepresentation !== 1) {
    return `PixelRepresentation ${m.pixelRepresentation}: samples are unsigned (0) or two's complement (1)`;
  }
  if (spp === 3 && m.planarConfiguration !== null && m.planarConfiguration !== 0 && m.planarConfiguration !== 1) {
    return `PlanarConfiguration ${m.planarConfiguration}: colour samples are interleaved (0) or planar (1)`;
  }
  const pi = m.photometricInterpretation;
  if (pi === 'PALETTE COLOR') return paletteProblem(m);
  const encoding = isSupportedTransferSyntax(transferSyntaxUid) ? transferSyntaxInfo(transferSyntaxUid).encoding : null;
  if (pi && COMPRESSED_ONLY_PHOTOMETRIC.includes(pi) && (encoding === 'native' || encoding === 'deflatedFrame')) {
    return `${pi} is defined for compressed pixel data only; uncompressed samples cannot be laid out so`;
  }
  return null;
}

/** A decode refused for its pixel module; `code` lets screening name it (UNSUPPORTED_PIXEL_MODULE). */
export class UnsupportedPixelModuleError extends PixelDataError {
  readonly code = 'UNSUPPORTED_PIXEL_MODULE';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPixelModuleError';
  }
}

/** Throws UnsupportedPixelModuleError for a pixel module the archive cannot render. */
export function assertPixelModule(m: PixelModule, transferSyntaxUid: string): void {
  const why = pixelModuleProblem(m, transferSyntaxUid);
  if (why) throw new UnsupportedPixelModuleError(why);
}
