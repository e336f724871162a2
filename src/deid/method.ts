import type { DicomDataset } from '../dicom/dcmjs';
import { loadRuleTable } from './ruleTables';
import type { DeidOptions } from './types';

interface Cid7050Code { codeValue: string; codingSchemeDesignator: string; codeMeaning: string }

const CODES = new Map(loadRuleTable<{ codes: Cid7050Code[] }>('cid7050_deidentification_method.json').codes.map((c) => [c.codeValue, c]));

// CID 7050 code of each option (checked against the cid7050 JSON at load).
const OPTION_CODES: [keyof DeidOptions, string][] = [
  ['cleanPixelData', '113101'],
  ['cleanDescriptors', '113105'],
  ['retainLongitudinalModifiedDates', '113107'],
  ['retainPatientCharacteristics', '113108'],
  ['retainDeviceIdentity', '113109'],
  ['retainSafePrivate', '113111'],
];

function code(value: string): Cid7050Code {
  const c = CODES.get(value);
  if (!c) throw new Error(`CID 7050 has no code ${value}`);
  return c;
}

export function methodCodes(options: DeidOptions): Cid7050Code[] {
  return [code('113100'), ...OPTION_CODES.filter(([flag]) => options[flag]).map(([, v]) => code(v))];
}

/** Writes (0012,0062/0063/0064) and (0028,0303), replacing whatever the source said. */
export function stampMethod(ds: DicomDataset, options: DeidOptions): void {
  const codes = methodCodes(options);
  ds['00120062'] = { vr: 'CS', Value: ['YES'] };
  // LO is limited to 64 characters per value, so each profile/option is one value.
  ds['00120063'] = { vr: 'LO', Value: ['OBIA: DICOM PS3.15 Annex E', ...codes.map((c) => c.codeMeaning.slice(0, 64))] };
  ds['00120064'] = {
    vr: 'SQ',
    Value: codes.map((c) => ({
      '00080100': { vr: 'SH', Value: [c.codeValue] },
      '00080102': { vr: 'SH', Value: [c.codingSchemeDesignator] },
      '00080104': { vr: 'LO', Value: [c.codeMeaning] },
    })),
  };
  ds['00280303'] = { vr: 'CS', Value: [options.retainLongitudinalModifiedDates ? 'MODIFIED' : 'REMOVED'] };
}
