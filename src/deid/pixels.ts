import { binaryBytes, byteView, int, type DicomDataset } from '../dicom';

/** A positive integer attribute (Rows, Columns, Number of Frames …), else `fallback`. */
function num(ds: DicomDataset, tag: string, fallback: number): number {
  const n = int(ds[tag]?.Value);
  return n !== null && n > 0 ? n : fallback;
}

/**
 * Fills rectangles (x, y, w, h) with zero in every frame of native (uncompressed) Pixel
 * Data. Returns a reason when it cannot, so the caller keeps the image held instead.
 */
export function blankRegions(ds: DicomDataset, encapsulated: boolean, regions: [number, number, number, number][]): string | null {
  const el = ds['7FE00010'];
  if (!el?.Value?.length) return 'no Pixel Data to clean';
  if (encapsulated) return 'pixel data is compressed; regions cannot be blanked without decoding';
  const rows = num(ds, '00280010', 0);
  const cols = num(ds, '00280011', 0);
  const bitsAllocated = num(ds, '00280100', 0);
  const spp = num(ds, '00280002', 1);
  const planar = ds['00280006']?.Value?.[0] === 1 ? 1 : 0;
  const frames = num(ds, '00280008', 1);
  if (!rows || !cols || bitsAllocated % 8 !== 0) return `unsupported pixel layout (Rows ${rows}, Columns ${cols}, BitsAllocated ${bitsAllocated})`;
  if (!el.Value.every(byteView)) return 'unreadable Pixel Data value';
  // A copy of its own (whole, from offset 0) to blank: the element's value may be a view of the received file.
  const bytes = new Uint8Array(binaryBytes(el.Value));
  const bpp = bitsAllocated / 8;
  const frameBytes = rows * cols * spp * bpp;
  if (bytes.length < frameBytes * frames) return 'Pixel Data shorter than Rows x Columns x frames';
  for (let f = 0; f < frames; f++) {
    const frameStart = f * frameBytes;
    for (const [x, y, w, h] of regions) {
      const x0 = Math.max(0, x);
      const x1 = Math.min(cols, x + w);
      const y1 = Math.min(rows, y + h);
      for (let r = Math.max(0, y); r < y1; r++) {
        if (planar === 0) {
          bytes.fill(0, frameStart + (r * cols + x0) * spp * bpp, frameStart + (r * cols + x1) * spp * bpp);
        } else {
          for (let s = 0; s < spp; s++) {
            const plane = frameStart + s * rows * cols * bpp;
            bytes.fill(0, plane + (r * cols + x0) * bpp, plane + (r * cols + x1) * bpp);
          }
        }
      }
    }
  }
  ds['7FE00010'] = { vr: el.vr, Value: [bytes.buffer] };
  return null;
}
