/**
 * Makes files that dcmjs refuses for purely structural reasons readable: raw data sets
 * without preamble/File Meta (common in older archives and RT exports) and File Meta
 * lacking a Transfer Syntax UID. The data set bytes are never altered; only a minimal
 * preamble + meta group is put in front of them.
 */

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const ALL_VRS = new Set([
  ...LONG_VRS, 'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US',
]);

function hasMagic(b: Uint8Array, at: number): boolean {
  return b.length >= at + 4 && b[at] === 0x44 && b[at + 1] === 0x49 && b[at + 2] === 0x43 && b[at + 3] === 0x4d;
}

/** Explicit VR is recognisable by two upper-case letters that form a VR right after the first tag. */
function guessSyntax(b: Uint8Array, at: number): string {
  if (b.length >= at + 6) {
    const vr = String.fromCharCode(b[at + 4], b[at + 5]);
    if (ALL_VRS.has(vr)) return EXPLICIT_LE;
  }
  return IMPLICIT_LE;
}

function metaGroup(transferSyntax: string): Uint8Array {
  const uid = transferSyntax.length % 2 ? transferSyntax + '\0' : transferSyntax;
  const elems: number[] = [];
  const push16 = (v: number) => elems.push(v & 0xff, (v >> 8) & 0xff);
  const push32 = (v: number) => { push16(v & 0xffff); push16(v >>> 16); };
  // (0002,0001) OB version
  push16(0x0002); push16(0x0001); elems.push(0x4f, 0x42, 0, 0); push32(2); elems.push(0, 1);
  // (0002,0010) UI transfer syntax
  push16(0x0002); push16(0x0010); elems.push(0x55, 0x49); push16(uid.length);
  for (const ch of uid) elems.push(ch.charCodeAt(0));
  const head: number[] = [];
  const h16 = (v: number) => head.push(v & 0xff, (v >> 8) & 0xff);
  h16(0x0002); h16(0x0000); head.push(0x55, 0x4c); h16(4);
  h16(elems.length & 0xffff); h16(elems.length >>> 16);
  const out = new Uint8Array(132 + head.length + elems.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(head, 132);
  out.set(elems, 132 + head.length);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

interface MetaScan { end: number; transferSyntax: string | null }

/** File Meta is always Explicit VR Little Endian, so it can be walked without a dictionary. */
function scanMeta(b: Uint8Array, start: number): MetaScan {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = start;
  let ts: string | null = null;
  while (p + 8 <= b.length && dv.getUint16(p, true) === 0x0002) {
    const elem = dv.getUint16(p + 2, true);
    const vr = String.fromCharCode(b[p + 4], b[p + 5]);
    let len: number;
    let hdr: number;
    if (LONG_VRS.has(vr)) {
      if (p + 12 > b.length) break;
      len = dv.getUint32(p + 8, true);
      hdr = 12;
    } else {
      len = dv.getUint16(p + 6, true);
      hdr = 8;
    }
    if (len === 0xffffffff || p + hdr + len > b.length) break;
    if (elem === 0x0010) {
      ts = String.fromCharCode(...b.subarray(p + hdr, p + hdr + len)).replace(/[\0 ]+$/, '');
    }
    p += hdr + len;
  }
  return { end: p, transferSyntax: ts || null };
}

/** Returns a Part 10 buffer dcmjs can read (the input itself when it already is one). */
export function normalisePart10(b: Uint8Array): Uint8Array {
  if (hasMagic(b, 128)) {
    const meta = scanMeta(b, 132);
    if (meta.transferSyntax) return b;
    return concat(metaGroup(guessSyntax(b, meta.end)), b.subarray(meta.end));
  }
  if (hasMagic(b, 0)) {
    const meta = scanMeta(b, 4);
    const ts = meta.transferSyntax ?? guessSyntax(b, meta.end);
    return concat(metaGroup(ts), b.subarray(meta.end));
  }
  const start = dataSetStart(b);
  return concat(metaGroup(guessSyntax(b, start)), b.subarray(start));
}

/**
 * A headerless data set normally starts with group 0008 (or a stray 0002 group). Tolerate a few
 * junk leading bytes, as produced by some broken exporters, by looking for that first tag.
 */
function dataSetStart(b: Uint8Array): number {
  for (let k = 0; k < 8 && k + 4 <= b.length; k++) {
    const group = b[k] | (b[k + 1] << 8);
    const element = b[k + 2] | (b[k + 3] << 8);
    if ((group === 0x0008 || group === 0x0002) && element < 0x0100) return k;
  }
  return 0;
}
