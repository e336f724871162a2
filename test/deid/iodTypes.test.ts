// PS3.15 E.1.1's combined codes depend on the IOD: "X/Z" is X unless the IOD makes the
// attribute Type 2, "X/D" X unless Type 1. An optional sequence that was only emptied (the CT
// series the default archive is built from) left zero-item Type 3 sequences dciodvfy rejects;
// the Type 2 and Type 1 uses (SR Document Series, Acquisition Context, Enhanced General
// Equipment) must stay present.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deidentify } from '../../src/deid';
import type { DicomDataset } from '../../src/dicom';
import { context, CT_IMAGE_STORAGE, imageDataset, readPart10, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('de-identifies files in memory and runs dciodvfy on them');

const REFERENCED_STUDY = '00081110';
const REFERENCED_PPS = '00081111';
const ACQUISITION_CONTEXT = '00400555';
const DEVICE_SERIAL = '00181000';
const STATION_NAME = '00081010';
const INSTITUTION = '00080080';
const reference = (uid: string): DicomDataset => ({ '00081150': { vr: 'UI', Value: ['1.2.840.10008.3.1.2.3.1'] }, '00081155': { vr: 'UI', Value: [uid] } });

/** What a modality sends: references to its worklist and procedure step, its equipment's identity. */
function received(sopClass: string, extra: DicomDataset = {}): Buffer {
  return writePart10(imageDataset(4, 4, 100, {
    '00080016': { vr: 'UI', Value: [sopClass] },
    [REFERENCED_STUDY]: { vr: 'SQ', Value: [reference('1.2.826.0.1.3680043.99.7.1')] },
    [REFERENCED_PPS]: { vr: 'SQ', Value: [{ ...reference('1.2.826.0.1.3680043.99.7.2'), '00081150': { vr: 'UI', Value: ['1.2.840.10008.3.1.2.3.3'] } }] },
    [DEVICE_SERIAL]: { vr: 'LO', Value: ['SN-48213'] },
    [STATION_NAME]: { vr: 'SH', Value: ['CTAWP71234'] },
    [INSTITUTION]: { vr: 'LO', Value: ['Saint Nowhere Hospital'] },
    ...extra,
  }), { '00020002': { vr: 'UI', Value: [sopClass] } });
}

function deidentified(sopClass: string, extra: DicomDataset = {}) {
  const result = deidentify(received(sopClass, extra), context({ retainDeviceIdentity: false }));
  return { dict: readPart10(result.output).dict, actions: result.actions };
}

describe('combined codes resolved for the IOD', () => {
  it('removes what a CT image may leave out: the referenced study and procedure step, the device serial, station and institution', () => {
    const { dict, actions } = deidentified(CT_IMAGE_STORAGE);
    for (const tag of [REFERENCED_STUDY, REFERENCED_PPS, DEVICE_SERIAL, STATION_NAME, INSTITUTION]) {
      assert.equal(dict[tag], undefined, `${tag} is removed, not emptied`);
    }
    const pps = actions.find((a) => a.tag === REFERENCED_PPS)!;
    assert.match(pps.action, /^X\/Z\/D→X removed \(Type 3 in CT Image\)$/);
  });

  it('keeps a Type 2 Referenced Performed Procedure Step Sequence of an SR document, empty', () => {
    const { dict } = deidentified('1.2.840.10008.5.1.4.1.1.88.33');
    assert.deepEqual(dict[REFERENCED_PPS]?.Value ?? [], [], 'present with zero items');
    assert.ok(dict[REFERENCED_PPS], 'SR Document Series makes it Type 2');
    assert.equal(dict[REFERENCED_STUDY], undefined, 'General Study makes the Referenced Study Sequence optional');
  });

  it('keeps a Type 2 Acquisition Context Sequence of a digital X-ray, empty', () => {
    const context = { [ACQUISITION_CONTEXT]: { vr: 'SQ', Value: [{ '0040A043': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['121'] } }] } }] } };
    const dx = deidentified('1.2.840.10008.5.1.4.1.1.1.1', context).dict;
    assert.ok(dx[ACQUISITION_CONTEXT], 'Acquisition Context is Type 2 in the DX IOD');
    assert.deepEqual(dx[ACQUISITION_CONTEXT]!.Value ?? [], []);
  });

  it('gives a Type 1 Device Serial Number of an enhanced image a dummy, not nothing', () => {
    const { dict } = deidentified('1.2.840.10008.5.1.4.1.1.2.1');
    assert.equal(dict[DEVICE_SERIAL]?.Value?.[0], 'ANONYMOUS', 'Enhanced General Equipment makes it Type 1');
    assert.equal(dict[STATION_NAME], undefined);
  });

  it('keeps the IOD-blind resolution (empty, present) for an IOD the data does not cover', () => {
    const { dict, actions } = deidentified('1.2.840.10008.5.1.4.1.1.481.5'); // RT Plan
    assert.deepEqual(dict[REFERENCED_PPS]?.Value ?? null, []);
    assert.match(actions.find((a) => a.tag === REFERENCED_PPS)!.action, /^X\/Z\/D→Z emptied$/);
    assert.ok(!JSON.stringify(dict).includes('SN-48213') && !JSON.stringify(dict).includes('Saint Nowhere'), 'and nothing identifying survives either way');
  });
});
