/**
 * A small JPEG decoder for the processes the 8-bit libjpeg-turbo build cannot handle:
 * Process 14 lossless (SOF3, any precision 2..16, predictors 1..7, point transform) and
 * sequential Huffman DCT at 12-bit precision (SOF1, DICOM's "JPEG Extended").
 * 8-bit sequential DCT also works here, which keeps a pure-JS path if WASM is unavailable.
 */
import { PixelDataError } from './errors';

export interface JpegImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Interleaved samples, unsigned, without colour conversion. */
  data: Uint16Array;
}

interface Huffman { maxcode: Int32Array; valptr: Int32Array; mincode: Int32Array; values: Uint8Array }
interface FrameComponent { id: number; h: number; v: number; tq: number; blocksPerLine: number; blocksPerColumn: number; plane: Float32Array | Uint16Array; pred: number }

const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const IDCT = (() => {
  const t = new Float32Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) t[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16) / 2;
  return t;
})();

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0, k = 0;
  for (let l = 1; l <= 16; l++) {
    valptr[l] = k;
    mincode[l] = code;
    code += counts[l - 1];
    k += counts[l - 1];
    maxcode[l] = counts[l - 1] ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values };
}

class BitReader {
  private buf = 0;
  private count = 0;
  constructor(private readonly data: Uint8Array, public pos: number) {}

  private fill(): void {
    let b = 0;
    if (this.pos < this.data.length) {
      b = this.data[this.pos];
      if (b === 0xff) {
        const next = this.data[this.pos + 1];
        if (next === 0x00) this.pos += 2;
        else b = 0; // a marker: feed zero bits and leave the marker for the caller
      } else {
        this.pos++;
      }
    }
    this.buf = ((this.buf << 8) | b) >>> 0;
    this.count += 8;
  }

  bit(): number {
    if (this.count === 0) this.fill();
    this.count--;
    return (this.buf >>> this.count) & 1;
  }

  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  decode(h: Huffman): number {
    let code = this.bit();
    let l = 1;
    while (code > h.maxcode[l]) {
      code = (code << 1) | this.bit();
      if (++l > 16) throw new PixelDataError('JPEG: corrupt Huffman code');
    }
    return h.values[h.valptr[l] + code - h.mincode[l]];
  }

  /** Skips to and past an RSTn marker, dropping the partial byte. */
  restart(): void {
    this.count = 0;
    this.buf = 0;
    while (this.pos + 1 < this.data.length && !(this.data[this.pos] === 0xff && this.data[this.pos + 1] >= 0xd0 && this.data[this.pos + 1] <= 0xd7)) this.pos++;
    this.pos += 2;
  }
}

function extend(v: number, t: number): number {
  return v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
}

function nextMarker(data: Uint8Array, pos: number): number {
  let p = pos;
  while (p + 1 < data.length) {
    if (data[p] === 0xff && data[p + 1] !== 0x00 && data[p + 1] !== 0xff && !(data[p + 1] >= 0xd0 && data[p + 1] <= 0xd7)) return p;
    p++;
  }
  return data.length;
}

/**
 * `expected`: the size the DICOM header declares (its limits were checked). Every frame header
 * in the stream must match it before anything is allocated for it: decode.ts checks the first
 * one before calling, but a corrupt entropy-coded segment can hold a byte pair that reads as a
 * second SOF marker, and one declaring 65535×65535×255 made this decoder ask for 20 billion
 * samples (a RangeError from inside it, after seconds of allocation: test/dicom/fuzz).
 */
export function decodeJpeg(data: Uint8Array, expected?: { width: number; height: number; components: number }): JpegImage {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw new PixelDataError('JPEG: missing SOI marker');
  const dc: (Huffman | undefined)[] = [], ac: (Huffman | undefined)[] = [];
  const qt: (Int32Array | undefined)[] = [];
  let restartInterval = 0;
  let frame: { lossless: boolean; precision: number; width: number; height: number; comps: FrameComponent[]; hmax: number; vmax: number } | null = null;
  let p = 2;
  const u16 = (at: number) => (data[at] << 8) | data[at + 1];
  while (p + 4 <= data.length) {
    if (data[p] !== 0xff) { p = nextMarker(data, p); continue; }
    const marker = data[p + 1];
    if (marker === 0xd9) break;
    if (marker === 0xff) { p++; continue; }
    const len = u16(p + 2);
    const seg = p + 4;
    const segEnd = p + 2 + len;
    if (segEnd > data.length) throw new PixelDataError('JPEG: marker segment runs past end of data');
    switch (marker) {
      case 0xc4: {
        let q = seg;
        while (q < segEnd) {
          const tcth = data[q];
          const counts = data.subarray(q + 1, q + 17);
          const n = counts.reduce((a, b) => a + b, 0);
          const table = buildHuffman(counts, data.slice(q + 17, q + 17 + n));
          ((tcth >> 4) === 0 ? dc : ac)[tcth & 15] = table;
          q += 17 + n;
        }
        break;
      }
      case 0xdb: {
        let q = seg;
        while (q < segEnd) {
          const pq = data[q] >> 4, tq = data[q] & 15;
          const t = new Int32Array(64);
          for (let i = 0; i < 64; i++) t[i] = pq ? u16(q + 1 + 2 * i) : data[q + 1 + i];
          qt[tq] = t;
          q += 1 + 64 * (pq ? 2 : 1);
        }
        break;
      }
      case 0xdd:
        restartInterval = u16(seg);
        break;
      case 0xc0: case 0xc1: case 0xc3: {
        const precision = data[seg];
        const height = u16(seg + 1), width = u16(seg + 3), n = data[seg + 5];
        if (!width || !height || !n) throw new PixelDataError(`JPEG: invalid frame header ${width}x${height}x${n}`);
        // One frame per stream (no hierarchical process here), of the size the caller expects.
        if (frame) throw new PixelDataError('JPEG: a second frame header in one stream');
        if (expected && (width !== expected.width || height !== expected.height || n !== expected.components)) {
          throw new PixelDataError(`JPEG: the frame header declares ${width}x${height}x${n}, the DICOM header ${expected.width}x${expected.height}x${expected.components}`);
        }
        if (n > 4) throw new PixelDataError(`JPEG: ${n} components`);
        const comps: FrameComponent[] = [];
        for (let i = 0; i < n; i++) {
          const b = seg + 6 + 3 * i;
          comps.push({ id: data[b], h: data[b + 1] >> 4 || 1, v: data[b + 1] & 15 || 1, tq: data[b + 2], blocksPerLine: 0, blocksPerColumn: 0, plane: new Uint16Array(0), pred: 0 });
        }
        const hmax = Math.max(...comps.map((c) => c.h)), vmax = Math.max(...comps.map((c) => c.v));
        const lossless = marker === 0xc3;
        for (const c of comps) {
          if (lossless) {
            if (c.h !== hmax || c.v !== vmax) throw new PixelDataError('JPEG lossless with subsampled components is not supported');
            c.plane = new Uint16Array(width * height);
          } else {
            const mcusX = Math.ceil(width / (8 * hmax)), mcusY = Math.ceil(height / (8 * vmax));
            c.blocksPerLine = mcusX * c.h;
            c.blocksPerColumn = mcusY * c.v;
            c.plane = new Float32Array(c.blocksPerLine * 8 * c.blocksPerColumn * 8);
          }
        }
        frame = { lossless, precision, width, height, comps, hmax, vmax };
        break;
      }
      case 0xc2: case 0xc5: case 0xc6: case 0xc7: case 0xc9: case 0xca: case 0xcb: case 0xcd: case 0xce: case 0xcf:
        throw new PixelDataError(`JPEG process with SOF marker 0xFF${marker.toString(16).toUpperCase()} is not supported for ${data[seg]}-bit data`);
      case 0xda: {
        if (!frame) throw new PixelDataError('JPEG: scan before frame header');
        const ns = data[seg];
        const scomps: { c: FrameComponent; dc?: Huffman; ac?: Huffman }[] = [];
        for (let i = 0; i < ns; i++) {
          const id = data[seg + 1 + 2 * i], t = data[seg + 2 + 2 * i];
          const c = frame.comps.find((x) => x.id === id);
          if (!c) throw new PixelDataError(`JPEG: scan references unknown component ${id}`);
          scomps.push({ c, dc: dc[t >> 4], ac: ac[t & 15] });
        }
        const ss = data[seg + 1 + 2 * ns], al = data[seg + 3 + 2 * ns] & 15;
        const reader = new BitReader(data, segEnd);
        if (frame.lossless) decodeLosslessScan(reader, frame.width, frame.height, frame.precision, scomps, ss, al, restartInterval);
        else decodeSequentialScan(reader, frame, scomps, qt, restartInterval);
        p = nextMarker(data, reader.pos);
        continue;
      }
      default:
        break; // APPn, COM, DNL and others carry nothing we need
    }
    p = segEnd;
  }
  if (!frame) throw new PixelDataError('JPEG: no frame header found');
  return assemble(frame);
}

function decodeLosslessScan(
  r: BitReader, width: number, height: number, precision: number,
  scomps: { c: FrameComponent; dc?: Huffman }[], predictor: number, pt: number, restartInterval: number,
): void {
  for (const s of scomps) if (!s.dc) throw new PixelDataError('JPEG lossless: missing Huffman table');
  const mask = (1 << (precision - pt)) - 1;
  const initial = 1 << (precision - pt - 1);
  let mcus = 0;
  let resetLine = true; // first line (or first line after a restart) predicts from the left only
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval && mcus > 0 && mcus % restartInterval === 0) {
        r.restart();
        resetLine = true;
        // A restart resets the line state; subsequent samples on this line predict from the left.
        for (const s of scomps) s.c.pred = -1;
      }
      for (const s of scomps) {
        const plane = s.c.plane as Uint16Array;
        const i = y * width + x;
        const t = r.decode(s.dc as Huffman);
        const diff = t === 0 ? 0 : t === 16 ? 32768 : extend(r.receive(t), t);
        let pred: number;
        if (resetLine && (x === 0 || s.c.pred === -1)) pred = initial;
        else if (resetLine) pred = plane[i - 1];
        else if (x === 0) pred = plane[i - width];
        else {
          const ra = plane[i - 1], rb = plane[i - width], rc = plane[i - width - 1];
          switch (predictor) {
            case 1: pred = ra; break;
            case 2: pred = rb; break;
            case 3: pred = rc; break;
            case 4: pred = ra + rb - rc; break;
            case 5: pred = ra + ((rb - rc) >> 1); break;
            case 6: pred = rb + ((ra - rc) >> 1); break;
            case 7: pred = (ra + rb) >> 1; break;
            default: pred = ra;
          }
        }
        s.c.pred = 0;
        plane[i] = (pred + diff) & mask;
      }
      mcus++;
    }
    resetLine = false;
  }
  if (pt) for (const s of scomps) { const pl = s.c.plane as Uint16Array; for (let i = 0; i < pl.length; i++) pl[i] <<= pt; }
}

function decodeSequentialScan(
  r: BitReader,
  frame: { width: number; height: number; comps: FrameComponent[]; hmax: number; vmax: number; precision: number },
  scomps: { c: FrameComponent; dc?: Huffman; ac?: Huffman }[],
  qt: (Int32Array | undefined)[], restartInterval: number,
): void {
  const coef = new Float32Array(64);
  const tmp = new Float32Array(64);
  const decodeBlock = (s: { c: FrameComponent; dc?: Huffman; ac?: Huffman }, row: number, col: number) => {
    const q = qt[s.c.tq];
    if (!q || !s.dc || !s.ac) throw new PixelDataError('JPEG: missing quantisation or Huffman table');
    coef.fill(0);
    const t = r.decode(s.dc);
    s.c.pred += t ? extend(r.receive(t), t) : 0;
    coef[0] = s.c.pred * q[0];
    for (let k = 1; k < 64;) {
      const rs = r.decode(s.ac);
      const run = rs >> 4, size = rs & 15;
      if (size === 0) {
        if (run !== 15) break;
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) break;
      coef[ZIGZAG[k]] = extend(r.receive(size), size) * q[k];
      k++;
    }
    // Separable float IDCT: rows then columns.
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        let sum = 0;
        for (let u = 0; u < 8; u++) sum += IDCT[x * 8 + u] * coef[y * 8 + u];
        tmp[y * 8 + x] = sum;
      }
    }
    const plane = s.c.plane as Float32Array;
    const stride = s.c.blocksPerLine * 8;
    for (let x = 0; x < 8; x++) {
      for (let y = 0; y < 8; y++) {
        let sum = 0;
        for (let v = 0; v < 8; v++) sum += IDCT[y * 8 + v] * tmp[v * 8 + x];
        plane[(row * 8 + y) * stride + col * 8 + x] = sum;
      }
    }
  };
  for (const s of scomps) s.c.pred = 0;
  let mcu = 0;
  const restartCheck = () => {
    if (restartInterval && mcu > 0 && mcu % restartInterval === 0) {
      r.restart();
      for (const s of scomps) s.c.pred = 0;
    }
  };
  if (scomps.length === 1) {
    const s = scomps[0];
    const bpl = Math.ceil(Math.ceil((frame.width * s.c.h) / frame.hmax) / 8);
    const bpc = Math.ceil(Math.ceil((frame.height * s.c.v) / frame.vmax) / 8);
    for (let row = 0; row < bpc; row++) for (let col = 0; col < bpl; col++) { restartCheck(); decodeBlock(s, row, col); mcu++; }
  } else {
    const mcusX = Math.ceil(frame.width / (8 * frame.hmax)), mcusY = Math.ceil(frame.height / (8 * frame.vmax));
    for (let my = 0; my < mcusY; my++) {
      for (let mx = 0; mx < mcusX; mx++) {
        restartCheck();
        for (const s of scomps) for (let v = 0; v < s.c.v; v++) for (let h = 0; h < s.c.h; h++) decodeBlock(s, my * s.c.v + v, mx * s.c.h + h);
        mcu++;
      }
    }
  }
}

function assemble(frame: { lossless: boolean; precision: number; width: number; height: number; comps: FrameComponent[]; hmax: number; vmax: number }): JpegImage {
  const { width, height, comps, precision } = frame;
  const n = comps.length;
  const out = new Uint16Array(width * height * n);
  const max = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  comps.forEach((c, ci) => {
    if (frame.lossless) {
      const pl = c.plane as Uint16Array;
      for (let i = 0; i < width * height; i++) out[i * n + ci] = pl[i];
      return;
    }
    const pl = c.plane as Float32Array;
    const stride = c.blocksPerLine * 8;
    for (let y = 0; y < height; y++) {
      const sy = Math.floor((y * c.v) / frame.vmax);
      for (let x = 0; x < width; x++) {
        const sx = Math.floor((x * c.h) / frame.hmax);
        const v = Math.round(pl[sy * stride + sx] + shift);
        out[(y * width + x) * n + ci] = v < 0 ? 0 : v > max ? max : v;
      }
    }
  });
  return { width, height, components: n, precision, data: out };
}
