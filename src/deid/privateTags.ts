import { byteView, text, type DicomDataset, type DicomElement } from '../dicom';
import { loadRuleTable } from './ruleTables';

interface SafeRow { group: string; elementInBlock: string; privateCreator: string }

const SAFE = new Set<string>(
  loadRuleTable<{ rows: SafeRow[] }>('table_e3_10_1_safe_private_2020b.json').rows.map((r) => safeKey(r.group, r.privateCreator, r.elementInBlock)),
);

function safeKey(group: string, creator: string, elementInBlock: string): string {
  return `${group.toUpperCase()}|${creator.trim().toUpperCase()}|${elementInBlock.toUpperCase()}`;
}

const NUMERIC_VRS = new Set(['US', 'SS', 'UL', 'SL', 'UV', 'SV', 'FL', 'FD', 'DS', 'IS', 'OF', 'OD', 'OL', 'OV', 'AT']);
// Digits, decimal point, sign, exponent, the VM separator and padding: nothing else can spell a name.
const NUMERIC_TEXT = /^[0-9.+\-eE\\ \0]*$/;

export function isPrivateGroup(group: number): boolean {
  return group % 2 === 1;
}

export function isPrivateCreatorElement(element: number): boolean {
  return element >= 0x0010 && element <= 0x00ff;
}

/** "gggg|bb" key of the private block a data element belongs to. */
export function blockKey(group: number, element: number): string {
  const block = element >= 0x1000 ? element >> 8 : element;
  return `${group.toString(16).toUpperCase().padStart(4, '0')}|${block.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function creatorsOf(ds: DicomDataset): Map<string, string> {
  const creators = new Map<string, string>();
  for (const tag of Object.keys(ds)) {
    const group = parseInt(tag.slice(0, 4), 16);
    const element = parseInt(tag.slice(4, 8), 16);
    if (!isPrivateGroup(group) || !isPrivateCreatorElement(element)) continue;
    const v = text(ds[tag].Value);
    if (v !== null) creators.set(blockKey(group, element), v);
  }
  return creators;
}

export function isSafePrivate(group: number, element: number, creator: string | undefined): boolean {
  if (!creator || element < 0x1000) return false;
  const g = group.toString(16).toUpperCase().padStart(4, '0');
  const e = (element & 0xff).toString(16).toUpperCase().padStart(2, '0');
  return SAFE.has(safeKey(g, creator, e));
}

/**
 * The OBIA paper's rule: a private value survives when it is purely numeric. Numeric VRs
 * qualify; text (or UN bytes, as implicit VR files deliver private values) qualifies
 * only when every character is part of a number.
 */
export function isPurelyNumeric(el: DicomElement): boolean {
  if (NUMERIC_VRS.has(el.vr)) return true;
  if (el.vr === 'SQ' || el.vr === 'OB' || el.vr === 'OW') return false;
  const values = el.Value ?? [];
  for (const v of values) {
    if (typeof v === 'number') continue;
    if (typeof v === 'string') {
      if (!NUMERIC_TEXT.test(v)) return false;
      continue;
    }
    const bytes = byteView(v);
    if (bytes === null) return false;
    for (const b of bytes) {
      const c = String.fromCharCode(b);
      if (!NUMERIC_TEXT.test(c)) return false;
    }
  }
  return true;
}
