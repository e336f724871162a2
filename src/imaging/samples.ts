import { PixelDataError } from './errors';

/** Stored pixel values of one frame, sign and BitsStored already resolved. */
export interface StoredFrame {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** Planar (RRR…GGG…BBB…) rather than interleaved; only meaningful for 3 samples. */
  planar: boolean;
  values: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array;
}

export interface NativeLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  /** YBR_FULL_422 native data carries two luma and one chroma pair per two pixels. */
  subsampled422?: boolean;
}

export function nativeFrameBits(l: NativeLayout): number {
  const samples = l.subsampled422 ? l.rows * l.columns * 2 : l.rows * l.columns * l.samplesPerPixel;
  return samples * l.bitsAllocated;
}

/** Masks to BitsStored (dropping overlay bits etc.) and sign-extends, per PS3.5 8.1.1. */
export function maskStored(raw: ArrayLike<number>, bitsStored: number, highBit: number, signed: boolean): Int32Array {
  const shift = Math.max(0, highBit + 1 - bitsStored);
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let v = (raw[i] >>> shift) & mask;
    if (signed && v & signBit) v -= 2 * signBit;
    out[i] = v;
  }
  return out;
}

/**
 * Reads one frame of native (uncompressed) pixel data. Little-endian aligned data is viewed,
 * not copied; the common CT case therefore costs nothing here.
 */
export function unpackNative(bytes: Uint8Array, layout: NativeLayout, frameIndex: number, bigEndian: boolean): StoredFrame {
  const { rows, columns, samplesPerPixel, bitsAllocated: ba, bitsStored, highBit, pixelRepresentation } = layout;
  const frameBits = nativeFrameBits(layout);
  const count = frameBits / ba;
  const startBit = frameBits * frameIndex;
  const needBytes = Math.ceil((startBit + frameBits) / 8);
  if (bytes.length < needBytes) {
    throw new PixelDataError(`pixel data too short: frame ${frameIndex} needs ${needBytes} bytes, value has ${bytes.length}`);
  }
  const signed = pixelRepresentation === 1;
  const planar = samplesPerPixel > 1 && layout.planarConfiguration === 1;
  const base = { rows, columns, samplesPerPixel, planar };
  if (ba === 1) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const bit = startBit + i;
      out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
    }
    return { ...base, values: out };
  }
  if (ba !== 8 && ba !== 16 && ba !== 32) throw new PixelDataError(`unsupported BitsAllocated ${ba}`);
  const bpp = ba / 8;
  const start = bytes.byteOffset + (startBit >> 3);
  let raw: Uint8Array | Uint16Array | Uint32Array;
  if (ba === 8) {
    raw = new Uint8Array(bytes.buffer, start, count);
  } else if (!bigEndian && start % bpp === 0) {
    raw = ba === 16 ? new Uint16Array(bytes.buffer, start, count) : new Uint32Array(bytes.buffer, start, count);
  } else {
    const dv = new DataView(bytes.buffer, start, count * bpp);
    raw = ba === 16 ? new Uint16Array(count) : new Uint32Array(count);
    for (let i = 0; i < count; i++) raw[i] = ba === 16 ? dv.getUint16(2 * i, !bigEndian) : dv.getUint32(4 * i, !bigEndian);
  }
  if (bitsStored < ba) return { ...base, values: maskStored(raw, bitsStored, highBit, signed) };
  if (!signed) return { ...base, values: raw };
  const values = raw instanceof Uint8Array ? new Int8Array(raw.buffer, raw.byteOffset, raw.length)
    : raw instanceof Uint16Array ? new Int16Array(raw.buffer, raw.byteOffset, raw.length)
      : new Int32Array(raw.buffer, raw.byteOffset, raw.length);
  return { ...base, values };
}
