import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/** 8-bit greyscale or RGB PNG. Rows use the Up filter, which suits smooth medical images. */
export function encodePng(img: { width: number; height: number; channels: 1 | 3; data: Uint8Array }): Buffer {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`invalid PNG size ${width}x${height}`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`PNG channels must be 1 or 3, got ${channels}`);
  const rowLen = width * channels;
  if (data.length !== rowLen * height) throw new RangeError(`PNG data has ${data.length} bytes, expected ${rowLen * height}`);
  const raw = new Uint8Array((rowLen + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (rowLen + 1), s = y * rowLen;
    if (y === 0) {
      raw[o] = 0;
      raw.set(data.subarray(s, s + rowLen), o + 1);
    } else {
      raw[o] = 2;
      for (let i = 0; i < rowLen; i++) raw[o + 1 + i] = (data[s + i] - data[s - rowLen + i]) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    // Level 3: thumbnails are made for every image ingested, and 6 costs twice the time for 3% smaller files.
    chunk('IDAT', deflateSync(raw, { level: 3 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
