import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deidentify } from '../../src/deid/index';
import { TagCensus, type CensusEntry } from '../../src/qc/index';
import { context } from '../deid/fixtures';
import { image, sample } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('tag census over files in memory');

/** What a modality sends: PHI, device identity, patient characteristics, private tags (numeric and text), a reference sequence. */
function received(n: number): Buffer {
  return image({
    seed: n,
    sop: `1.2.826.0.1.3680043.99.3.${n}`,
    patientId: 'MRN-778899',
    extra: {
      '00080070': { vr: 'LO', Value: ['ACME Medical'] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'House^Gregory' }] },
      '00081140': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [`1.2.826.0.1.3680043.99.4.${n}`] } }] },
      '00181000': { vr: 'LO', Value: ['SN-4411'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
      '00100040': { vr: 'CS', Value: ['F'] },
      '00200013': { vr: 'IS', Value: [String(n)] },
      '00190010': { vr: 'LO', Value: ['ACME 1.0'] },
      '00191010': { vr: 'DS', Value: ['12.5'] },
      '00191011': { vr: 'LO', Value: ['Doe Jane ward 4'] },
    },
  });
}

function censusOf(files: number[], limits?: ConstructorParameters<typeof TagCensus>[0]): TagCensus {
  const c = new TagCensus(limits);
  for (const n of files) c.addPart10(deidentify(received(n), context()).output);
  return c;
}

function find(entries: CensusEntry[], tag: string): CensusEntry {
  const e = entries.find((x) => x.tag === tag);
  assert.ok(e, `census lists ${tag}; it has ${entries.map((x) => x.tag).join(' ')}`);
  return e;
}

describe('TagCensus over de-identified files', () => {
  const census = censusOf([1, 2, 3]);
  const all = census.entries();

  it('lists a kept private tag under its creator, and not the private text deid removed', () => {
    const priv = find(all, '(0019,xx10)');
    assert.equal(priv.privateCreator, 'ACME 1.0');
    assert.equal(priv.files, 3);
    assert.deepEqual(priv.sampleValues, ['12.5']);
    assert.equal(priv.retained, true);
    assert.equal(all.find((e) => e.tag === '(0019,xx11)'), undefined);
  });

  it('lists retained standard tags (device identity, patient characteristics) with counts and values', () => {
    const serial = find(all, '(0018,1000)');
    assert.equal(serial.keyword, 'DeviceSerialNumber');
    assert.equal(serial.vr, 'LO');
    assert.deepEqual([serial.files, serial.distinctValues, serial.retained, serial.sampleValues[0]], [3, 1, true, 'SN-4411']);
    // Manufacturer is not in Table E.1-1: present, but not something the profile had to decide on.
    assert.equal(find(all, '(0008,0070)').retained, false);
    assert.deepEqual(find(all, '(0010,0040)').sampleValues, ['F']);
    const instance = find(all, '(0020,0013)');
    assert.equal(instance.distinctValues, 3);
    assert.deepEqual(instance.sampleValues, ['1', '2', '3']);
  });

  it('walks sequences: nested tags are listed under their parent', () => {
    const ref = find(all, '(0008,1140)>(0008,1155)');
    assert.equal(ref.keyword, 'ReferencedSOPInstanceUID');
    assert.equal(ref.distinctValues, 3);
    assert.equal(find(all, '(0008,1140)').sampleValues[0], '<1 item>');
  });

  it('shows what a PHI reviewer needs: no removed identifier survives in any sample', () => {
    const text = JSON.stringify(all);
    for (const phi of ['Doe', 'House', 'MRN-778899', 'ward']) assert.ok(!text.includes(phi), `${phi} is not in the census`);
    // PatientID is still there, as the individual accession deid wrote.
    assert.deepEqual(find(all, '(0010,0020)').sampleValues, ['OBIA-IND-000042']);
  });

  it('filters: text-valued tags only, and tags the profile retained', () => {
    const text = census.entries({ textOnly: true }).map((e) => e.tag);
    assert.ok(text.includes('(0008,0070)') && text.includes('(0010,0040)'));
    assert.ok(!text.includes('(0028,0010)'), 'Rows (US) is not text');
    assert.ok(!text.includes('(7FE0,0010)'));
    const retained = census.entries({ retainedOnly: true }).map((e) => e.tag);
    assert.ok(retained.includes('(0018,1000)') && retained.includes('(0010,0040)') && retained.includes('(0019,xx10)'));
    // Rows and Manufacturer are not in Table E.1-1; PatientID is replaced (not retained); the SOP UID is remapped.
    for (const t of ['(0028,0010)', '(0008,0070)', '(0010,0020)', '(0008,0018)']) assert.ok(!retained.includes(t), t);
    assert.ok(retained.length < all.length);
  });

  it('Pixel Data is counted but its value is described, not hashed into the distinct set', () => {
    const px = find(all, '(7FE0,0010)');
    assert.equal(px.files, 3);
    assert.match(px.sampleValues[0], /^<512 bytes>$/);
  });
});

describe('TagCensus mechanics', () => {
  it('bounds samples and distinct counts; a capped count is flagged as a lower bound', () => {
    const c = censusOf([1, 2, 3], { limits: { samples: 2, distinct: 2 } });
    const instance = c.entries().find((e) => e.tag === '(0020,0013)')!;
    assert.deepEqual(instance.sampleValues, ['1', '2']);
    assert.equal(instance.distinctValues, 2);
    assert.equal(instance.distinctCapped, true);
    assert.equal(c.entries().find((e) => e.tag === '(0008,0070)')!.distinctCapped, false);
  });

  it('is incremental through JSON: persisted after two files, restored, one more file = built in one go', () => {
    const stored = JSON.parse(JSON.stringify(censusOf([1, 2])));
    const resumed = TagCensus.fromJSON(stored);
    resumed.addPart10(deidentify(received(3), context()).output);
    assert.equal(resumed.files, 3);
    assert.deepEqual(resumed.entries(), censusOf([1, 2, 3]).entries());
  });

  it('merges censuses over disjoint files into the census of all of them', () => {
    const merged = censusOf([1]).merge(censusOf([2, 3]));
    assert.equal(merged.files, 3);
    assert.deepEqual(merged.entries(), censusOf([1, 2, 3]).entries());
  });

  it('counts a tag once per file even when it repeats inside sequence items', () => {
    const c = new TagCensus();
    const eCT = sample('pydicomdata__eCT_Supplemental.dcm');
    c.addPart10(eCT);
    for (const e of c.entries()) assert.equal(e.files, 1, e.tag);
    assert.ok(c.entries().some((e) => e.tag.includes('>')), 'functional groups are walked');
  });

  it('refuses a census JSON of an unknown version', () => {
    assert.throws(() => TagCensus.fromJSON({ version: 2 } as never), /version/);
  });
});
