// De-identified files are written through a cache of dcmjs's own element encodings
// (src/deid/writer.ts). What it writes must be, byte for byte, what dcmjs writes: on every
// sample, de-identified under each option set and as received, and again once the cache is warm.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deidentify, DicomParseError } from '../../src/deid';
import { dcmjs, type DicomDataset } from '../../src/dicom';
import { Part10Writer } from '../../src/deid/writer';
import { context, readPart10, SAMPLES_DIR, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase("compares the de-identified bytes with dcmjs's in memory");

const dcmjsWriter = {
  write(meta: DicomDataset, dict: DicomDataset): Buffer {
    const d = new dcmjs.data.DicomDict(meta);
    d.dict = dict;
    return Buffer.from(d.write({ allowInvalidVRLength: true }));
  },
};

const samples = fs.existsSync(SAMPLES_DIR) ? fs.readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.dcm')).sort() : [];
const OPTION_SETS = [
  {},
  { retainLongitudinalTemporalInformation: false, retainPatientCharacteristics: false, retainDeviceIdentity: false, retainSafePrivate: false, cleanDescriptors: false },
  { retainSafePrivate: true, cleanPixelData: false },
];

function deidOrRefusal(input: Buffer, options: object, writer?: typeof dcmjsWriter): Buffer | string {
  try {
    return deidentify(input, context(options), writer ? { writer } : {}).output;
  } catch (e) {
    if (e instanceof DicomParseError) return `refused: ${e.reason}`;
    throw e;
  }
}

/** Every VR, several values, text beyond ASCII, nested items and odd lengths. */
function everyVr(): Buffer {
  const bytes = (s: string) => Buffer.from(s, 'latin1').buffer.slice(0) as ArrayBuffer;
  return writePart10({
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] },
    '00080020': { vr: 'DA', Value: ['20200131'] },
    '00080030': { vr: 'TM', Value: ['101010.5'] },
    '0008002A': { vr: 'DT', Value: ['20200131101010'] },
    '00080054': { vr: 'AE', Value: ['STATION1', 'STATION2'] },
    '00081030': { vr: 'LO', Value: ['Étude thoracique 胸部'] },
    '00081040': { vr: 'LO', Value: ['odd'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: '山田^太郎' }] },
    '00101010': { vr: 'AS', Value: ['042Y'] },
    '00101020': { vr: 'DS', Value: [1.75] },
    '00101030': { vr: 'DS', Value: ['70.5', '-1e-3'] },
    '00104000': { vr: 'LT', Value: ['line one\r\nline two'] },
    '00180050': { vr: 'DS', Value: [0.625] },
    '00200013': { vr: 'IS', Value: [17] },
    '00209161': { vr: 'UI', Value: ['1.2.3'] },
    '00280010': { vr: 'US', Value: [2] },
    '00280011': { vr: 'US', Value: [2] },
    '00280106': { vr: 'SS', Value: [-1024] },
    '00189219': { vr: 'FD', Value: [0.1, -2.5e300] },
    '00189306': { vr: 'FD', Value: [3.5] },
    '00186020': { vr: 'SL', Value: [-70000] },
    '00186028': { vr: 'FD', Value: [1] },
    '00186030': { vr: 'UL', Value: [4000000000] },
    '00209241': { vr: 'FL', Value: [0.5] },
    '00209153': { vr: 'FD', Value: [12.25] },
    '00400555': { vr: 'SQ', Value: [{ '0040A043': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['121'] }, '00080104': { vr: 'LO', Value: ['meaning'] } }] } }, {}] },
    '00287FE0': { vr: 'UR', Value: ['https://example.org/a b'] },
    '00400610': { vr: 'SQ', Value: [] },
    '00404001': { vr: 'UT', Value: ['unlimited text'] },
    '0040A160': { vr: 'UT', Value: ['x'] },
    '00660023': { vr: 'OF', Value: [new Float32Array([1.5, -2]).buffer] },
    '00660040': { vr: 'OL', Value: [new Uint32Array([1, 2, 3]).buffer] },
    '00701A05': { vr: 'OD', Value: [new Float64Array([Math.PI]).buffer] },
    '00080101': { vr: 'SH', Value: [''] },
    '00081090': { vr: 'LO', Value: [] },
    '00091010': { vr: 'UN', Value: [bytes('abc')] },
    '00090010': { vr: 'LO', Value: ['CREATOR'] },
    '00091011': { vr: 'OB', Value: [bytes('ABCDE')] },
    '00280008': { vr: 'IS', Value: ['3'] },
    '00720052': { vr: 'AT', Value: [0x00100010] },
    '0018100A': { vr: 'SQ', Value: [{ '00181002': { vr: 'UI', Value: ['1.2.840.1'] } }] },
    '00089459': { vr: 'FL', Value: [2.5] },
    '00620001': { vr: 'CS', Value: ['AUTOMATIC', 'MANUAL'] },
    '00080061': { vr: 'CS', Value: [] },
    '7FE00010': { vr: 'OW', Value: [new Uint16Array([1, 2, 3, 4]).buffer] },
  });
}

describe('the de-identified dataset writer', () => {
  it('the shared sample set is present', () => {
    assert.ok(samples.length >= 41, `found ${samples.length} samples in ${SAMPLES_DIR}`);
  });

  for (const [i, options] of OPTION_SETS.entries()) {
    it(`writes what dcmjs writes for every de-identified sample (option set ${i + 1}), cold and warm`, () => {
      let compared = 0;
      for (const file of samples) {
        const input = fs.readFileSync(path.join(SAMPLES_DIR, file));
        const reference = deidOrRefusal(input, options, dcmjsWriter);
        for (let pass = 0; pass < 2; pass++) {
          const ours = deidOrRefusal(input, options);
          if (typeof reference === 'string') { assert.equal(ours, reference, file); continue; }
          assert.ok(Buffer.isBuffer(ours) && ours.equals(reference), `${file}: output differs from dcmjs's (pass ${pass + 1})`);
          compared++;
        }
      }
      assert.ok(compared >= 60, `only ${compared} outputs compared`);
    });
  }

  it('writes what dcmjs writes for every sample as received (parsed values and raw strings alike)', () => {
    const writer = new Part10Writer();
    let compared = 0;
    // As parsed, bad_sequence.dcm holds a runaway sequence that dcmjs itself needs half a
    // minute to write; de-identified (above) it is compared like every other sample.
    for (const file of samples.filter((f) => f !== 'pydicomdata__bad_sequence.dcm')) {
      let parsed;
      try { parsed = readPart10(fs.readFileSync(path.join(SAMPLES_DIR, file))); } catch { continue; }
      const reference = dcmjsWriter.write(parsed.meta, parsed.dict);
      for (let pass = 0; pass < 2; pass++) assert.ok(writer.write(parsed.meta, parsed.dict).equals(reference), `${file} (pass ${pass + 1})`);
      compared++;
    }
    assert.ok(compared >= 30, `only ${compared} samples compared`);
  });

  it('writes what dcmjs writes for every VR, implicit, explicit and big endian', () => {
    const writer = new Part10Writer();
    const source = readPart10(everyVr());
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']) {
      const meta = { ...source.meta, '00020010': { vr: 'UI', Value: [ts] } };
      const reference = dcmjsWriter.write(meta, source.dict);
      for (let pass = 0; pass < 2; pass++) assert.ok(writer.write(meta, source.dict).equals(reference), `${ts} (pass ${pass + 1})`);
    }
  });

  it('stays exact when its cache fills up and is emptied', () => {
    const writer = new Part10Writer();
    const meta = readPart10(everyVr()).meta;
    // 600 distinct 30 000-character texts make about 36 MB of keys, past the 32 MB the cache keeps.
    for (let i = 0; i < 600; i++) {
      const dict: DicomDataset = { '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00404001': { vr: 'UT', Value: [`${i}:`.padEnd(30_000, 'x')] } };
      const ours = writer.write(meta, dict);
      if (i % 50 === 0 || i > 560) assert.ok(ours.equals(dcmjsWriter.write(meta, dict)), `dataset ${i}`);
    }
  });

  it('keeps no value that de-identification replaced, even one still held as the raw string read', () => {
    const writer = new Part10Writer();
    const meta = readPart10(everyVr()).meta;
    const dict: DicomDataset = {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'OBIA-IND-000042' }], _rawValue: ['MARKRAWNAME^SECRET'] },
      '00080020': { vr: 'DA', Value: ['20190101'], _rawValue: ['20200101'] },
      '00081030': { vr: 'LO', Value: ['kept description'], _rawValue: ['kept description '] },
    };
    assert.ok(writer.write(meta, dict).equals(dcmjsWriter.write(meta, dict)));
    const keys = [...(writer as unknown as { cache: Map<string, Uint8Array> }).cache.keys()].join('\n');
    assert.ok(!keys.includes('MARKRAWNAME') && !keys.includes('20200101'), 'a replaced original value is kept in the cache');
    assert.ok(keys.includes('OBIA-IND-000042') && keys.includes('kept description'));
  });

  it('does not reuse an encoding for a value that only looks the same', () => {
    const writer = new Part10Writer();
    const meta = readPart10(everyVr()).meta;
    // The same digits as a number and as a string, 0 and -0, and a value padded differently.
    const variants: DicomDataset[] = [
      { '00200013': { vr: 'IS', Value: [17] } }, { '00200013': { vr: 'IS', Value: ['17'] } }, { '00200013': { vr: 'IS', Value: ['17 '] } },
      { '00101020': { vr: 'DS', Value: [0] } }, { '00101020': { vr: 'DS', Value: [-0] } },
      { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A^B' }] } }, { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A', Ideographic: 'B' }] } },
      { '00100010': { vr: 'PN', Value: ['A^B'] } },
    ];
    for (const dict of variants) assert.ok(writer.write(meta, dict).equals(dcmjsWriter.write(meta, dict)), JSON.stringify(dict));
  });
});
