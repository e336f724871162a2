import { PixelDataError } from './errors';
import type { ImageAttributes, PaletteChannel } from './parse';
import type { StoredFrame } from './samples';

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Grey: modality LUT (RescaleSlope/Intercept) applied. */
export function toModality(frame: StoredFrame, slope: number, intercept: number): Float32Array {
  const src = frame.values;
  const n = frame.rows * frame.columns;
  const out = new Float32Array(n);
  if (slope === 1 && intercept === 0) {
    for (let i = 0; i < n; i++) out[i] = src[i];
  } else {
    for (let i = 0; i < n; i++) out[i] = src[i] * slope + intercept;
  }
  return out;
}

/** Colour samples as interleaved triplets regardless of planar configuration. */
function interleaved(frame: StoredFrame, scale: number): Float32Array {
  const n = frame.rows * frame.columns;
  const src = frame.values;
  const out = new Float32Array(n * 3);
  if (frame.planar) {
    for (let i = 0; i < n; i++) {
      out[3 * i] = src[i] * scale;
      out[3 * i + 1] = src[n + i] * scale;
      out[3 * i + 2] = src[2 * n + i] * scale;
    }
  } else {
    for (let i = 0; i < 3 * n; i++) out[i] = src[i] * scale;
  }
  return out;
}

/** ITU-R BT.601 full-range YCbCr → RGB (PS3.3 C.7.6.3.1.2, YBR_FULL). */
function ybrFullToRgb(data: Float32Array): void {
  for (let i = 0; i < data.length; i += 3) {
    const y = data[i], cb = data[i + 1] - 128, cr = data[i + 2] - 128;
    data[i] = clamp255(y + 1.402 * cr);
    data[i + 1] = clamp255(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp255(y + 1.772 * cb);
  }
}

/** Partial-range (studio swing) YCbCr → RGB, for YBR_PARTIAL_422/420 left unconverted by a codec. */
function ybrPartialToRgb(data: Float32Array): void {
  for (let i = 0; i < data.length; i += 3) {
    const y = 1.164383 * (data[i] - 16), cb = data[i + 1] - 128, cr = data[i + 2] - 128;
    data[i] = clamp255(y + 1.596027 * cr);
    data[i + 1] = clamp255(y - 0.391762 * cb - 0.812968 * cr);
    data[i + 2] = clamp255(y + 2.017232 * cb);
  }
}

/** Native YBR_FULL_422: Y1 Y2 Cb Cr per horizontal pixel pair (PS3.3 C.7.6.3.1.2). */
function expand422(frame: StoredFrame): Float32Array {
  const { rows, columns } = frame;
  const src = frame.values;
  const out = new Float32Array(rows * columns * 3);
  let s = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x += 2) {
      const y1 = src[s], y2 = src[s + 1], cb = src[s + 2], cr = src[s + 3];
      s += 4;
      const o = (y * columns + x) * 3;
      out[o] = y1; out[o + 1] = cb; out[o + 2] = cr;
      if (x + 1 < columns) { out[o + 3] = y2; out[o + 4] = cb; out[o + 5] = cr; }
    }
  }
  return out;
}

function readWords(data: Uint8Array): Uint16Array {
  const n = data.length >> 1;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = data[2 * i] | (data[2 * i + 1] << 8);
  return out;
}

/** Expands a Segmented Palette Colour LUT (PS3.3 C.7.9.2): discrete, linear and indirect segments. */
export function expandSegmented(words: Uint16Array, entries: number): Uint16Array {
  const out: number[] = [];
  const run = (start: number, end: number, depth: number): void => {
    if (depth > 4) throw new PixelDataError('segmented palette: indirect segments nest too deeply');
    let p = start;
    while (p < end && out.length < entries) {
      const op = words[p], len = words[p + 1];
      p += 2;
      if (op === 0) {
        for (let i = 0; i < len && p < end; i++) out.push(words[p++]);
      } else if (op === 1) {
        const y0 = out.length ? out[out.length - 1] : 0;
        const y1 = words[p++];
        for (let i = 1; i <= len; i++) out.push(Math.round(y0 + ((y1 - y0) * i) / len));
      } else if (op === 2) {
        const offset = words[p] | (words[p + 1] << 16);
        p += 2;
        // Copy `len` segments starting at the given word offset.
        let q = offset;
        for (let s = 0; s < len && q < words.length; s++) {
          const segLen = words[q] === 0 ? 2 + words[q + 1] : words[q] === 1 ? 3 : 4;
          run(q, q + segLen, depth + 1);
          q += segLen;
        }
      } else {
        throw new PixelDataError(`segmented palette: unknown opcode ${op}`);
      }
    }
  };
  run(0, words.length, 0);
  const lut = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) lut[i] = out[Math.min(i, out.length - 1)] ?? 0;
  return lut;
}

/** A palette channel as 8-bit output levels. */
export function paletteTo8(ch: PaletteChannel): Uint8Array {
  let values: ArrayLike<number>;
  let bits = ch.bits;
  if (ch.segmented) {
    values = expandSegmented(readWords(ch.data), ch.entries);
  } else if (bits === 8 && ch.data.length >= 2 * ch.entries) {
    // 8-bit entries stored one per 16-bit word; writers disagree on which byte holds the value.
    const words = readWords(ch.data);
    const lowEmpty = words.every((w) => (w & 0xff) === 0);
    values = Array.from(words.subarray(0, ch.entries), (w) => (lowEmpty ? w >> 8 : w & 0xff));
  } else if (bits === 8) {
    values = ch.data;
  } else {
    values = readWords(ch.data);
  }
  if (bits !== 8) {
    // Some writers declare 16 bits but fill only the low byte; scale to the range actually used.
    let max = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
    bits = max <= 255 ? 8 : 16;
  }
  const out = new Uint8Array(ch.entries);
  const scale = bits === 8 ? 1 : 255 / 65535;
  for (let i = 0; i < ch.entries; i++) out[i] = Math.round((values[Math.min(i, values.length - 1)] ?? 0) * scale);
  return out;
}

function applyPalette(frame: StoredFrame, palette: NonNullable<ImageAttributes['palette']>): Float32Array {
  const luts = palette.map(paletteTo8);
  const n = frame.rows * frame.columns;
  const out = new Float32Array(n * 3);
  const src = frame.values;
  for (let c = 0; c < 3; c++) {
    const lut = luts[c], first = palette[c].firstMapped, last = lut.length - 1;
    for (let i = 0; i < n; i++) {
      let k = src[i] - first;
      k = k < 0 ? 0 : k > last ? last : k;
      out[3 * i + c] = lut[k];
    }
  }
  return out;
}

/**
 * Turns stored values into DecodedFrame data. `codecColour` tells whether a codec has already
 * produced RGB (libjpeg-turbo YCbCr conversion, J2K/HTJ2K component transforms), in which
 * case the photometric interpretation in the header describes the compressed stream only.
 */
export function toFrameData(frame: StoredFrame, attrs: ImageAttributes, bitsStored: number, codecColour: boolean): { data: Float32Array; samplesPerPixel: 1 | 3 } {
  const pi = attrs.photometricInterpretation;
  if (pi === 'PALETTE COLOR') {
    if (!attrs.palette) throw new PixelDataError('PALETTE COLOR image without usable palette LUT descriptors/data');
    return { data: applyPalette(frame, attrs.palette), samplesPerPixel: 3 };
  }
  if (frame.samplesPerPixel === 1) {
    return { data: toModality(frame, attrs.rescaleSlope, attrs.rescaleIntercept), samplesPerPixel: 1 };
  }
  if (frame.samplesPerPixel !== 3) throw new PixelDataError(`unsupported SamplesPerPixel ${frame.samplesPerPixel}`);
  const scale = bitsStored > 8 ? 255 / ((2 ** bitsStored) - 1) : 1;
  if (pi === 'YBR_FULL_422' && !codecColour && frame.values.length === frame.rows * frame.columns * 2) {
    const data = expand422(frame);
    ybrFullToRgb(data);
    return { data, samplesPerPixel: 3 };
  }
  const data = interleaved(frame, scale);
  if (!codecColour) {
    if (pi === 'YBR_FULL' || pi === 'YBR_FULL_422') ybrFullToRgb(data);
    else if (pi === 'YBR_PARTIAL_422' || pi === 'YBR_PARTIAL_420') ybrPartialToRgb(data);
  }
  return { data, samplesPerPixel: 3 };
}
