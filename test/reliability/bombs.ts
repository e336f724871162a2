// Small files that declare huge images: what a careless or hostile user sends. Each is a real,
// well-formed file that a decoder without bounds would expand to side × side pixels.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { makeCt, uid } from '../ingest/helpers.js';

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A greyscale PNG of side × side black pixels: about 250 KB at 16,000 a side (256 M pixels). */
export async function pngBomb(side: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const row = Buffer.alloc(side + 1);
  for (let y = 0; y < side; y++) if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  deflate.end();
  await done;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0); ihdr.writeUInt32BE(side, 4); ihdr[8] = 8; ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.concat(parts)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The start of a baseline JPEG declaring side × side pixels (SOI, SOF0 with one component), then an end marker. */
export function jpegHeaderBomb(side: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x0b, 0x08, side >> 8, side & 0xff, side >> 8, side & 0xff, 0x01, 0x01, 0x11, 0x00]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

/**
 * An RLE Lossless DICOM (a CT with another patient's data for each call) of one side × side
 * 8-bit frame: about 4 MB at 16,000 a side, 256 MB once decoded (1 GB as display floats).
 */
export function rleDicomBomb(side: number, ids: EncapsulatedIds = {}): Buffer {
  const runs = Math.ceil((side * side) / 128);
  const seg = Buffer.alloc(runs * 2);
  for (let i = 0; i < seg.length; i += 2) seg[i] = 0x81; // PackBits: repeat the next byte 128 times
  const head = Buffer.alloc(64);
  head.writeUInt32LE(1, 0); head.writeUInt32LE(64, 4);
  return encapsulatedCt(side, Buffer.concat([head, seg]), '1.2.840.10008.1.2.5', ids);
}

type EncapsulatedIds = { patientId?: string; studyUid?: string; seriesUid?: string };

/** A CT (another patient for each call) of one side × side 8-bit frame, stored as `frame` in `transferSyntax`. */
export function encapsulatedCt(side: number, frame: Buffer, transferSyntax: string, ids: EncapsulatedIds = {}): Buffer {
  return makeCt({
    patientId: ids.patientId ?? `BOMB-${crypto.randomBytes(3).toString('hex')}`, studyUid: ids.studyUid ?? uid(), seriesUid: ids.seriesUid ?? uid(), sopUid: uid(),
    extra: {
      '00280010': { vr: 'US', Value: [side] }, '00280011': { vr: 'US', Value: [side] },
      '00280100': { vr: 'US', Value: [8] }, '00280101': { vr: 'US', Value: [8] }, '00280102': { vr: 'US', Value: [7] }, '00280103': { vr: 'US', Value: [0] },
      '7FE00010': { vr: 'OB', Value: [frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length)] },
    },
    extraMeta: { '00020010': { vr: 'UI', Value: [transferSyntax] } },
  });
}

/** A zip of one entry of `bytes` zeros, deflated by zlib as it is produced (no buffer of its size is ever held). */
export async function zeroZip(bytes: number, entryName: string): Promise<Buffer> {
  const MB = 1024 * 1024;
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const block = Buffer.alloc(MB);
  let crc = 0;
  for (let left = bytes; left > 0; left -= MB) {
    const piece = block.subarray(0, Math.min(MB, left));
    crc = zlib.crc32(piece, crc);
    if (!deflate.write(piece)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const data = Buffer.concat(parts);
  const name = Buffer.from(entryName);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14); local.writeUInt32LE(data.length, 18); local.writeUInt32LE(bytes, 22); local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(bytes, 24); central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  const cdOffset = local.length + name.length + data.length;
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12); end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}
