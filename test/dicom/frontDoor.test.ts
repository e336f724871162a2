// src/dicom is the one front door for DICOM bytes: de-identification, imaging and QC read every
// file through it, so they accept and refuse the same files (issue 14: before, imaging and deid
// disagreed on three of the shared samples: a truncated RT plan, a truncated JPEG 2000 and a
// headerless dataset behind a stray byte).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deidentify, OBIA_DEFAULT_OPTIONS } from '../../src/deid';
import { DicomParseError, readDicom } from '../../src/dicom';
import { PixelDataError } from '../../src/imaging';
import { parseImage } from '../../src/imaging/parse';
import { readFacts, UnreadableFileError } from '../../src/qc';
import { makeCt, uid } from '../ingest/helpers.js';
import { noDatabase } from '../support/once.js';

noDatabase('parses DICOM bytes');

const SAMPLES_DIR = path.resolve(__dirname, '../../../../shared/deid/dicom');
const samples = fs.existsSync(SAMPLES_DIR) ? fs.readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.dcm')).sort() : [];
const ctx = { secret: 'front-door-test-secret-0123456789', individualAccession: 'I000001', dateOffsetDays: 11, options: OBIA_DEFAULT_OPTIONS };

type Verdict = { accepted: true } | { accepted: false; reason: string };

function verdict(fn: () => unknown, refusal: (e: unknown) => string | null): Verdict {
  try {
    fn();
    return { accepted: true };
  } catch (e) {
    const reason = refusal(e);
    if (reason === null) throw e;
    return { accepted: false, reason };
  }
}

describe('every shared sample is accepted or refused alike by deid, imaging and QC', () => {
  it('the shared sample set is present (CI keeps ../shared beside the clone)', () => {
    assert.ok(samples.length >= 41, `found ${samples.length} samples in ${SAMPLES_DIR}`);
  });

  for (const file of samples) {
    it(file, () => {
      const bytes = fs.readFileSync(path.join(SAMPLES_DIR, file));
      const door = verdict(() => readDicom(bytes), (e) => (e instanceof DicomParseError ? e.reason : null));
      const deid = verdict(() => deidentify(bytes, ctx), (e) => (e instanceof DicomParseError ? e.reason : null));
      // Imaging may still refuse a sound file for its pixels ("no pixel data", no Rows): only a
      // refusal of the bytes themselves counts here.
      const imaging = verdict(() => parseImage(bytes), (e) => {
        if (!(e instanceof PixelDataError)) return null;
        return e.message.startsWith('cannot parse DICOM: ') ? e.message : '';
      });
      const qc = verdict(() => readFacts(bytes), (e) => (e instanceof DicomParseError ? e.reason : e instanceof UnreadableFileError ? e.reason : null));
      const imagingRefusedBytes = !imaging.accepted && imaging.reason !== '';
      assert.equal(deid.accepted, door.accepted, `deid ${JSON.stringify(deid)} vs front door ${JSON.stringify(door)}`);
      assert.equal(!imagingRefusedBytes, door.accepted, `imaging ${JSON.stringify(imaging)} vs front door ${JSON.stringify(door)}`);
      assert.equal(qc.accepted, door.accepted, `qc ${JSON.stringify(qc)} vs front door ${JSON.stringify(door)}`);
      if (!door.accepted) {
        // The same reason everywhere, and one a submitter may read: it names tags, never values.
        assert.ok(door.reason.length > 10);
        assert.ok(!deid.accepted && deid.reason === door.reason);
        assert.ok(!imaging.accepted && imaging.reason.endsWith(door.reason));
      }
    });
  }

  it('the three files the modules used to disagree on are refused by all', () => {
    for (const file of ['pydicom__rtplan_truncated.dcm', 'pydicomdata__emri_small_jpeg_2k_lossless_too_short.dcm', 'pydicom__no_meta.dcm']) {
      assert.throws(() => readDicom(fs.readFileSync(path.join(SAMPLES_DIR, file))), DicomParseError, file);
    }
  });
});

describe('a Specific Character Set as devices write it', () => {
  const withCharset = (value: string) => makeCt({ patientId: 'CS-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), extra: { '00080005': { vr: 'CS', Value: value.split('\\') } } });

  it('reads the misspellings and codec names of a defined term as that term (dcmjs refused the whole file for them)', () => {
    for (const [written, meant] of [['ISO_IR100', 'ISO_IR 100'], ['ISO-IR 144', 'ISO_IR 144'], ['iso ir 192', 'ISO_IR 192'], ['UTF-8', 'ISO_IR 192'],
      ['ISO-8859-7', 'ISO_IR 126'], ['ISO2022 IR 87', 'ISO 2022 IR 87'], ['ISO 2022 IR 6\\ISO2022IR149', 'ISO 2022 IR 149']]) {
      const file = readDicom(withCharset(written));
      assert.equal(file.message.dict['00100020']!.Value![0], 'CS-1', written);
      assert.equal(readDicom(withCharset(meant)).message.dict['00100020']!.Value![0], 'CS-1', meant);
      // And through de-identification, which reads through the same door.
      assert.equal(deidentify(withCharset(written), ctx).output.length > 0, true, written);
    }
  });

  it('refuses a term that names no character set, saying so without quoting it', () => {
    assert.throws(() => readDicom(withCharset('KLINGON-1')), (e: unknown) => e instanceof DicomParseError && /Specific Character Set \(0008,0005\) names no character set/.test(e.message) && !/KLINGON/.test(e.message));
  });
});

describe('no module reads DICOM around the front door', () => {
  // DICOMweb once kept a reader of its own (dcmjs with ignoreErrors, no structure check), so a
  // STOW-RS part was judged by other rules than an upload of the same file.
  it('dcmjs is loaded by src/dicom alone', () => {
    const srcRoot = path.resolve(__dirname, '../../../src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.ts$/.test(entry.name) && path.relative(srcRoot, dir) !== 'dicom' && /(?:require\(|from )\s*['"]dcmjs['"]/.test(fs.readFileSync(file, 'utf8'))) offenders.push(path.relative(srcRoot, file));
      }
    };
    walk(srcRoot);
    assert.ok(fs.existsSync(path.join(srcRoot, 'dicom/dcmjs.ts')), `the sources are at ${srcRoot}`);
    assert.deepEqual(offenders, []);
  });
});
