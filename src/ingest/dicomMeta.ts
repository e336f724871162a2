/**
 * Reads the Transfer Syntax UID from a Part 10 file's meta group without parsing the dataset:
 * the pipeline needs it for every stored image and the de-identified file was just validated.
 */
export function transferSyntaxOf(part10: Uint8Array): string | null {
  const buf = Buffer.from(part10.buffer, part10.byteOffset, part10.byteLength);
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') return null;
  let pos = 132;
  while (pos + 8 <= buf.length) {
    const group = buf.readUInt16LE(pos);
    if (group !== 0x0002) return null;
    const element = buf.readUInt16LE(pos + 2);
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    let length: number;
    let header: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr)) {
      length = buf.readUInt32LE(pos + 8);
      header = 12;
    } else {
      length = buf.readUInt16LE(pos + 6);
      header = 8;
    }
    if (element === 0x0010) return buf.toString('latin1', pos + header, pos + header + length).replace(/[\0 ]+$/, '');
    pos += header + length;
  }
  return null;
}
