import { PixelDataError } from './errors';
import type { PixelEncoding } from './transferSyntax';

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function startsFrame(encoding: PixelEncoding, b: Uint8Array): boolean {
  if (b.length < 2) return false;
  if (encoding === 'jpeg' || encoding === 'jpegls') return b[0] === 0xff && b[1] === 0xd8;
  if (encoding === 'j2k' || encoding === 'htj2k') {
    // Raw codestream (SOC) or a JP2 file box signature.
    return (b[0] === 0xff && b[1] === 0x4f) || (b.length >= 8 && b[4] === 0x6a && b[5] === 0x50 && b[6] === 0x20 && b[7] === 0x20);
  }
  return true;
}

/**
 * dcmjs returns one item per frame when a Basic Offset Table was present, otherwise one per
 * fragment. Without a table, fragments are grouped by codestream start markers, as other
 * toolkits do (RLE and deflated frames always use exactly one fragment per frame).
 */
export function encapsulatedFrame(items: Uint8Array[], numberOfFrames: number, frameIndex: number, encoding: PixelEncoding): Uint8Array {
  const nonEmpty = items.filter((i) => i.length > 0);
  if (nonEmpty.length === 0) throw new PixelDataError('encapsulated pixel data has no fragments');
  if (numberOfFrames === 1) return concat(nonEmpty);
  if (nonEmpty.length === numberOfFrames) return nonEmpty[frameIndex];
  const frames: Uint8Array[][] = [];
  for (const item of nonEmpty) {
    if (frames.length === 0 || startsFrame(encoding, item)) frames.push([item]);
    else frames[frames.length - 1].push(item);
  }
  if (frames.length !== numberOfFrames) {
    throw new PixelDataError(`cannot split ${nonEmpty.length} fragments into ${numberOfFrames} frames (found ${frames.length} frame starts)`);
  }
  return concat(frames[frameIndex]);
}

/**
 * dcmjs zero-fills a value whose declared length runs past the end of the file, so a truncated
 * file would silently render as black. Find the Pixel Data header in the raw bytes (searching
 * backwards so Icon Image Sequence pixels are not mistaken for it) and compare with the file length.
 */
export function checkNativeNotTruncated(source: Uint8Array, declaredLength: number, bigEndian: boolean, implicit: boolean): void {
  const t0 = bigEndian ? 0x7f : 0xe0, t1 = bigEndian ? 0xe0 : 0x7f, t2 = bigEndian ? 0x00 : 0x10, t3 = bigEndian ? 0x10 : 0x00;
  const dv = new DataView(source.buffer, source.byteOffset, source.byteLength);
  for (let p = source.length - 8; p >= 0; p--) {
    if (source[p] !== t0 || source[p + 1] !== t1 || source[p + 2] !== t2 || source[p + 3] !== t3) continue;
    let len: number, hdr: number;
    if (implicit) {
      len = dv.getUint32(p + 4, true);
      hdr = 8;
    } else {
      const vr = String.fromCharCode(source[p + 4], source[p + 5]);
      if (!/^O[BWLDF]$|^UN$/.test(vr) || p + 12 > source.length) continue;
      len = dv.getUint32(p + 8, !bigEndian);
      hdr = 12;
    }
    if (len !== declaredLength) continue;
    const available = source.length - (p + hdr);
    if (available < len) {
      throw new PixelDataError(`pixel data truncated: element declares ${len} bytes but only ${available} remain in the file`);
    }
    return;
  }
}
