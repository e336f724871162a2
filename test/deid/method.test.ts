// The output must say what was done to it (PS3.15 E.1.1 and CID 7050), and the private
// attribute rule of the OBIA paper must hold: numeric private values survive, text goes,
// safe-listed private attributes survive only under Retain Safe Private.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deidentify } from '../../src/deid';
import type { DicomDataset } from '../../src/dicom';
import { context, DATA_DIR, imageDataset, readPart10, str, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('de-identifies files in memory');

const CID7050: { codes: { codeValue: string; codeMeaning: string }[] } = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'cid7050_deidentification_method.json'), 'utf8'));

function file(): Buffer {
  return writePart10(imageDataset(2, 2, 1, {
    '00190010': { vr: 'LO', Value: ['GEMS_ACQU_01'] },
    '00191023': { vr: 'DS', Value: ['5.0'] },
    '0019109E': { vr: 'LO', Value: ['HEAD_SCAN'] },
    '00290010': { vr: 'LO', Value: ['ACME PRIVATE'] },
    '00291001': { vr: 'LO', Value: ['Jane Doe, ward 3'] },
    '00291002': { vr: 'IS', Value: ['42\\43'] },
    '00291003': { vr: 'FD', Value: [1.5] },
    '00291004': { vr: 'SH', Value: ['1.5e-3'] },
  }));
}

describe('de-identification method and private attributes', () => {
  const result = deidentify(file(), context());
  const out = readPart10(result.output).dict;

  it('records PatientIdentityRemoved, a readable method and the CID 7050 codes of the OBIA profile', () => {
    assert.equal(str(out, '00120062'), 'YES');
    const method = (out['00120063'].Value as string[]).join(' ');
    for (const words of ['PS3.15', 'Basic Application Confidentiality Profile', 'Clean Pixel Data', 'Clean Descriptors', 'Modified Dates', 'Patient Characteristics', 'Device Identity', 'Safe Private']) {
      assert.ok(method.includes(words), `method lacks "${words}"`);
    }
    const items = out['00120064'].Value as DicomDataset[];
    const codes = items.map((i) => str(i, '00080100'));
    assert.deepEqual(codes, ['113100', '113101', '113105', '113107', '113108', '113109', '113111']);
    for (const item of items) {
      assert.equal(str(item, '00080102'), 'DCM');
      assert.equal(str(item, '00080104'), CID7050.codes.find((c) => c.codeValue === str(item, '00080100'))?.codeMeaning);
    }
  });

  it('lists only the options actually applied', () => {
    const basic = readPart10(deidentify(file(), context({ cleanPixelData: false, cleanDescriptors: false, retainSafePrivate: false, retainDeviceIdentity: false, retainPatientCharacteristics: false, retainLongitudinalModifiedDates: false })).output).dict;
    assert.deepEqual((basic['00120064'].Value as DicomDataset[]).map((i) => str(i, '00080100')), ['113100']);
    assert.equal(str(basic, '00280303'), 'REMOVED');
  });

  it('keeps numeric private values, removes private text, and drops a creator whose block is empty', () => {
    assert.equal(str(out, '00290010'), 'ACME PRIVATE');
    assert.equal(out['00291001'], undefined);
    assert.deepEqual(out['00291002'].Value?.map(Number), [42, 43]);
    assert.equal(out['00291003'].Value?.[0], 1.5);
    assert.equal(str(out, '00291004'), '1.5e-3');
    assert.ok(result.actions.some((a) => a.tag === '00291001' && a.action.startsWith('X')));
    const onlyText = deidentify(writePart10(imageDataset(2, 2, 1, { '00290010': { vr: 'LO', Value: ['ACME'] }, '00291001': { vr: 'LO', Value: ['Jane'] } })), context());
    assert.equal(readPart10(onlyText.output).dict['00290010'], undefined);
  });

  it('keeps safe private text only under Retain Safe Private', () => {
    assert.equal(str(out, '0019109E'), 'HEAD_SCAN');
    const without = readPart10(deidentify(file(), context({ retainSafePrivate: false })).output).dict;
    assert.equal(without['0019109E'], undefined);
    assert.equal(str(without, '00191023'), '5', 'numeric private stays without the option');
  });
});
