// What a curator relies on when a patient's studies arrive as many files over time:
// the same source UID maps to the same output UID in every file, references still
// point at the right instances, intervals between dates survive, and the patient is
// known only by the archive accession.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateOffsetDays, deidentify, localPatientKey, remapUid } from '../../src/deid';
import { shiftDate, shiftDateTime } from '../../src/deid/dates';
import { context, imageDataset, readPart10, SECRET, str, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('de-identifies files in memory');

const STUDY = '1.2.826.0.1.3680043.55.1';
const FOR = '1.2.826.0.1.3680043.55.9';

function slice(instance: string, referenced: string, date: string) {
  return writePart10(imageDataset(4, 4, 100, {
    '00080018': { vr: 'UI', Value: [instance] },
    '00080020': { vr: 'DA', Value: [date] },
    '0008002A': { vr: 'DT', Value: [`${date}101500.25+0100`] },
    '00080030': { vr: 'TM', Value: ['101500'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00100020': { vr: 'LO', Value: ['MRN-55'] },
    '0020000D': { vr: 'UI', Value: [STUDY] },
    '00200052': { vr: 'UI', Value: [FOR] },
    '00081140': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [referenced] } }] },
  }));
}

describe('UID consistency and date shifting across files', () => {
  const a = deidentify(slice('1.2.826.0.1.3680043.55.100', '1.2.826.0.1.3680043.55.101', '20200110'), context());
  const b = deidentify(slice('1.2.826.0.1.3680043.55.101', '1.2.826.0.1.3680043.55.100', '20200115'), context());
  const da = readPart10(a.output);
  const db = readPart10(b.output);

  it('maps the same source UID to the same output UID in every file, so references still resolve', () => {
    assert.equal(str(da.dict, '0020000D'), str(db.dict, '0020000D'));
    assert.equal(str(da.dict, '00200052'), str(db.dict, '00200052'));
    assert.notEqual(str(da.dict, '0020000D'), STUDY);
    const refFromA = str(da.dict['00081140'].Value![0] as never, '00081155');
    const refFromB = str(db.dict['00081140'].Value![0] as never, '00081155');
    assert.equal(refFromA, str(db.dict, '00080018'));
    assert.equal(refFromB, str(da.dict, '00080018'));
    assert.equal(str(da.meta, '00020003'), str(da.dict, '00080018'), 'file meta instance UID follows the dataset');
  });

  it('never remaps well-known UIDs (SOP classes, transfer syntax)', () => {
    assert.equal(str(da.dict, '00080016'), '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(str(da.dict['00081140'].Value![0] as never, '00081150'), '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(str(da.meta, '00020010'), '1.2.840.10008.1.2.1');
  });

  it('remapUid is deterministic, secret-dependent and a valid 2.25 UID of at most 64 characters', () => {
    const u = remapUid(STUDY, SECRET);
    assert.equal(u, remapUid(STUDY, SECRET));
    assert.notEqual(u, remapUid(STUDY, SECRET + 'x'));
    assert.notEqual(u, remapUid(STUDY + '1', SECRET));
    assert.match(u, /^2\.25\.(0|[1-9]\d*)$/);
    assert.ok(u.length <= 64);
  });

  it('shifts dates by the individual offset so the 5-day interval survives, and keeps times of day', () => {
    assert.equal(str(da.dict, '00080020'), '20181206'); // 2020-01-10 - 400 days
    assert.equal(str(db.dict, '00080020'), '20181211');
    assert.equal(str(da.dict, '0008002A'), '20181206101500.25+0100');
    assert.equal(str(da.dict, '00080030'), '101500');
    assert.equal(str(da.dict, '00280303'), 'MODIFIED');
  });

  it('shifts DA ranges, DT ranges and DT values with negative UTC offsets', () => {
    assert.equal(shiftDate('20200301-20200310', -1), '20200229-20200309');
    assert.equal(shiftDate('-20200310', -10), '-20200229');
    assert.equal(shiftDate('20200301-', 1), '20200302-');
    assert.equal(shiftDateTime('20200301120000-0500', -1), '20200229120000-0500');
    assert.equal(shiftDateTime('20200301-20200302120000', 1), '20200302-20200303120000');
    assert.equal(shiftDate('notadate', 1), null);
  });

  it('replaces PatientID and PatientName with the individual accession', () => {
    assert.equal(str(da.dict, '00100020'), 'OBIA-IND-000042');
    assert.equal(str(da.dict, '00100010'), 'OBIA-IND-000042');
    assert.ok(!a.output.toString('latin1').includes('MRN-55'));
    assert.ok(!a.output.toString('latin1').includes('Doe^Jane'));
  });

  it('derives per-individual keys and offsets deterministically, within -365..-3650 days', () => {
    assert.equal(localPatientKey('MRN-55', SECRET), localPatientKey(' MRN-55 ', SECRET));
    assert.match(localPatientKey('MRN-55', SECRET), /^[0-9a-f]{64}$/);
    assert.notEqual(localPatientKey('MRN-55', SECRET), localPatientKey('MRN-56', SECRET));
    const offsets = Array.from({ length: 200 }, (_, i) => dateOffsetDays(`OBIA-IND-${i}`, SECRET));
    for (const o of offsets) assert.ok(o <= -365 && o >= -3650, `offset ${o}`);
    assert.equal(dateOffsetDays('OBIA-IND-7', SECRET), dateOffsetDays('OBIA-IND-7', SECRET));
    assert.ok(new Set(offsets).size > 150, 'offsets should spread');
  });
});
