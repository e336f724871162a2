import { PixelDataError } from './errors';

/** PackBits as used by DICOM RLE (PS3.5 G.3.1); stops at `out.length` so junk padding is harmless. */
function unpackSegment(src: Uint8Array, start: number, end: number, out: Uint8Array, outStart: number, stride: number, count: number): number {
  let p = start;
  let n = 0;
  while (n < count && p < end) {
    const h = src[p++];
    if (h < 128) {
      const len = Math.min(h + 1, count - n, end - p);
      for (let i = 0; i < len; i++) out[outStart + (n++) * stride] = src[p++];
      if (len < h + 1) p += h + 1 - len;
    } else if (h > 128) {
      const len = Math.min(257 - h, count - n);
      const v = src[p++];
      for (let i = 0; i < len; i++) out[outStart + (n++) * stride] = v;
    }
    // h === 128 is a no-op by definition.
  }
  return n;
}

/**
 * Decodes one RLE frame into native little-endian bytes with planar configuration 1
 * (RLE stores each sample as its own set of byte segments, most significant byte first).
 */
export function decodeRle(frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  if (frame.length < 64) throw new PixelDataError(`RLE frame too short for its 64-byte header (${frame.length} bytes)`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = dv.getUint32(0, true);
  const bytesPerSample = Math.ceil(bitsAllocated / 8);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) throw new PixelDataError(`RLE frame has ${segments} segments, expected ${expected}`);
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end < start) throw new PixelDataError(`RLE segment ${s} offset ${start} out of range`);
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const planeStart = sample * pixels * bytesPerSample;
    const got = unpackSegment(frame, start, Math.min(end, frame.length), out, planeStart + byteInSample, bytesPerSample, pixels);
    if (got < pixels) throw new PixelDataError(`RLE segment ${s} decoded ${got} of ${pixels} bytes`);
  }
  return out;
}
