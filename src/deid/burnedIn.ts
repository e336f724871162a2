import { loadRuleTable } from './ruleTables';

type Naturalized = Record<string, unknown>;

interface Condition { keyword: string; op: 'equals' | 'contains' | 'containsIgnoreCase'; value: string }
export interface PixelRule { name: string; conditions: Condition[]; regions: [number, number, number, number][] }

const RULES = loadRuleTable<{ rules: PixelRule[] }>('pixel_rules.json').rules;

const SCREEN_CAPTURE_CONVERSION = new Set(['WSD', 'SYN', 'DRW', 'SD', 'SI', 'DV']);

// CTP compares against the attribute's string form; multi-valued attributes join with "\".
function stringValue(ds: Naturalized, keyword: string): string {
  const v = ds[keyword];
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join('\\');
  return String(v);
}

/**
 * Why an image may carry burned-in text, or null. Ultrasound, secondary capture and
 * screen captures routinely have names and dates drawn into the pixels whatever
 * BurnedInAnnotation says, so they are held unless a pixel rule cleans them.
 */
export function burnedInReason(ds: Naturalized): string | null {
  if (!('PixelData' in ds) && !('FloatPixelData' in ds) && !('DoubleFloatPixelData' in ds)) return null;
  const bia = stringValue(ds, 'BurnedInAnnotation').trim().toUpperCase();
  const absent = bia === '' ? ' and BurnedInAnnotation is absent' : '';
  if (bia === 'YES') return 'BurnedInAnnotation is YES';
  if (stringValue(ds, 'Modality').trim().toUpperCase() === 'US') return `ultrasound image${absent}`;
  const sopClass = stringValue(ds, 'SOPClassUID').trim();
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.7')) return `secondary capture SOP class${absent}`;
  const conversion = stringValue(ds, 'ConversionType').trim().toUpperCase();
  if (SCREEN_CAPTURE_CONVERSION.has(conversion)) return `screen capture (ConversionType ${conversion})${absent}`;
  if (/SCREEN ?SHOT|SCREEN ?CAPTURE/.test(stringValue(ds, 'ImageType').toUpperCase())) return `screen capture (ImageType)${absent}`;
  return null;
}

function holds(ds: Naturalized, c: Condition): boolean {
  const v = stringValue(ds, c.keyword).trim();
  switch (c.op) {
    case 'equals':
      return v === c.value;
    case 'contains':
      return v.includes(c.value);
    case 'containsIgnoreCase':
      return v.toLowerCase().includes(c.value.toLowerCase());
  }
}

/** The first rule whose conditions all hold, as CTP's DicomPixelAnonymizer picks it. */
export function matchPixelRule(ds: Naturalized): PixelRule | null {
  return RULES.find((r) => r.conditions.every((c) => holds(ds, c))) ?? null;
}

// Keywords the hold reasons and pixel rules read, by tag; kept explicit so a rule naming
// an attribute we do not extract fails at load instead of silently never matching.
const VIEW_TAGS: Record<string, string> = {
  Modality: '00080060',
  BurnedInAnnotation: '00280301',
  SOPClassUID: '00080016',
  ConversionType: '00080064',
  ImageType: '00080008',
  Manufacturer: '00080070',
  ManufacturerModelName: '00081090',
  SeriesDescription: '0008103E',
  Rows: '00280010',
  Columns: '00280011',
  WindowWidth: '00281051',
  PixelData: '7FE00010',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
};

for (const rule of RULES) {
  for (const c of rule.conditions) {
    if (!(c.keyword in VIEW_TAGS)) throw new Error(`pixel rule "${rule.name}" reads ${c.keyword}, which burnedIn.ts does not extract`);
  }
}

/** The few attributes burned-in checks need, read from the source before cleaning. */
export function burnedInView(ds: Record<string, { vr: string; Value?: unknown[] }>): Naturalized {
  const view: Naturalized = {};
  for (const [keyword, tag] of Object.entries(VIEW_TAGS)) {
    const el = ds[tag];
    if (!el) continue;
    view[keyword] = keyword.endsWith('PixelData') ? true : (el.Value ?? []).map((v) => (typeof v === 'object' && v !== null && 'Alphabetic' in v ? (v as { Alphabetic: string }).Alphabetic : v));
  }
  return view;
}
