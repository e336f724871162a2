import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readDicom, toDicomJson } from '../../src/dicom';
import { noDatabase } from '../support/once.js';

noDatabase('converts DICOM to and from DICOM JSON');

const SAMPLES_DIR = path.resolve(__dirname, '../../../../shared/deid/dicom');

describe('the DICOM JSON Model (PS3.18 Annex F)', () => {
  it('writes each VR as the standard says: numbers for IS/DS and US, PN objects, nested items, bulk data by reference', () => {
    const json = toDicomJson(readDicom(fs.readFileSync(path.join(SAMPLES_DIR, 'pydicom__CT_small.dcm'))).message.dict);
    assert.deepEqual(json['00280010'], { vr: 'US', Value: [128] });
    assert.equal(json['00100010'].vr, 'PN');
    assert.ok(typeof (json['00100010'].Value![0] as { Alphabetic: string }).Alphabetic === 'string');
    assert.ok(json['00280030'].Value!.every((v) => typeof v === 'number'), 'DS as numbers');
    assert.ok(json['00200013'].Value!.every((v) => typeof v === 'number'), 'IS as numbers');
    assert.deepEqual(json['7FE00010'], { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' });
    assert.deepEqual(Object.keys(json), Object.keys(json).slice().sort(), 'tags in ascending order');
    assert.ok(Object.keys(json).every((k) => /^[0-9A-F]{8}$/.test(k)));
  });

  it('nests sequences as datasets and inlines small binary values as base64', () => {
    const json = toDicomJson({
      '00081140': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.3'] } }] },
      '00091010': { vr: 'OB', Value: [new Uint8Array([1, 2, 3, 4]).buffer] },
      '00200052': { vr: 'UI', Value: [] },
      '00209165': { vr: 'AT', Value: [0x00200032] },
    });
    assert.deepEqual(json['00081140'], { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.3'] } }] });
    assert.deepEqual(json['00091010'], { vr: 'OB', InlineBinary: 'AQIDBA==' });
    assert.deepEqual(json['00200052'], { vr: 'UI' });
    assert.deepEqual(json['00209165'], { vr: 'AT', Value: ['00200032'] });
  });
});
