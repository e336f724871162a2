import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFile, findDuplicates, findInconsistencies, QcReason, type FileFacts } from '../../src/qc/index';
import { image, sample } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('cross-file QC checks in memory');

/** Reads crafted files the way the pipeline would: every file through checkFile, facts kept by name. */
async function factsOf(files: Record<string, Uint8Array>): Promise<{ key: string; facts: FileFacts }[]> {
  const out: { key: string; facts: FileFacts }[] = [];
  for (const [key, bytes] of Object.entries(files)) {
    const r = await checkFile(bytes);
    assert.deepEqual(r.findings, [], `${key} passes the per-file checks`);
    out.push({ key, facts: r.facts! });
  }
  return out;
}

function inconsistencies(files: { key: string; facts: FileFacts }[]) {
  return findInconsistencies(files.map(({ key, facts }) => ({ key, ...facts })))
    .map((f) => `${f.key}:${f.reason}`).sort();
}

const STUDY = '1.2.826.0.1.3680043.99.5.10';
const OTHER_STUDY = '1.2.826.0.1.3680043.99.5.11';
const SERIES = '1.2.826.0.1.3680043.99.6.10';
const SERIES_B = '1.2.826.0.1.3680043.99.6.11';

describe('findInconsistencies', () => {
  it('a consistent series gives nothing', async () => {
    const files = await factsOf({ a: image({ seed: 1 }), b: image({ seed: 2 }), c: image({ seed: 3 }) });
    assert.deepEqual(inconsistencies(files), []);
  });

  it('MIXED_PATIENTS: one study with two PatientIDs flags the minority patient, not the majority', async () => {
    const files = await factsOf({
      a: image({ study: STUDY, series: SERIES, patientId: 'PAT-A' }),
      b: image({ study: STUDY, series: SERIES, patientId: 'PAT-A' }),
      intruder: image({ study: STUDY, series: SERIES_B, patientId: 'PAT-B' }),
    });
    assert.deepEqual(inconsistencies(files), ['intruder:MIXED_PATIENTS']);
    const [f] = findInconsistencies(files.map(({ key, facts }) => ({ key, ...facts })));
    assert.match(f.message, /2 different patients/);
    assert.ok(!f.message.includes('PAT-'), 'the message names no patient ID');
  });

  it('MIXED_SERIES: a series whose images disagree on study (same patient), and on patient', async () => {
    const files = await factsOf({
      a: image({ study: STUDY, series: SERIES }),
      b: image({ study: STUDY, series: SERIES }),
      strayStudy: image({ study: OTHER_STUDY, series: SERIES }),
    });
    assert.deepEqual(inconsistencies(files), ['strayStudy:MIXED_SERIES']);

    const mixed = await factsOf({
      a: image({ study: STUDY, series: SERIES, patientId: 'PAT-A' }),
      b: image({ study: STUDY, series: SERIES, patientId: 'PAT-A' }),
      c: image({ study: STUDY, series: SERIES, patientId: 'PAT-B' }),
    });
    // The other patient's image breaks both the study and the series.
    assert.deepEqual(inconsistencies(mixed), ['c:MIXED_PATIENTS', 'c:MIXED_SERIES']);
  });

  it('INCONSISTENT_GEOMETRY: rows/columns and bits allocated that differ from the series', async () => {
    const files = await factsOf({
      a: image({ rows: 16, columns: 16 }),
      b: image({ rows: 16, columns: 16 }),
      wide: image({ rows: 16, columns: 24 }),
      eightBit: image({ rows: 16, columns: 16, bits: 8 }),
      elsewhere: image({ rows: 24, columns: 24, series: SERIES_B }),
    });
    assert.deepEqual(inconsistencies(files), ['eightBit:INCONSISTENT_GEOMETRY', 'wide:INCONSISTENT_GEOMETRY']);
  });

  it('a tie keeps the first received file\'s side', async () => {
    const files = await factsOf({ first: image({ rows: 16 }), second: image({ rows: 20 }) });
    assert.deepEqual(inconsistencies(files), ['second:INCONSISTENT_GEOMETRY']);
    assert.deepEqual(inconsistencies([files[1], files[0]]), ['first:INCONSISTENT_GEOMETRY']);
  });
});

describe('findDuplicates', () => {
  const input = (files: { key: string; facts: FileFacts }[]) =>
    files.map(({ key, facts }) => ({ key, sopInstanceUid: facts.sopInstanceUid, pixelSha256: facts.pixelData?.sha256 ?? null }));

  it('same SOPInstanceUID: keeps the first received, reports the rest against it', async () => {
    const sop = '1.2.826.0.1.3680043.99.9.1';
    const files = await factsOf({ first: image({ sop, seed: 1 }), other: image({ seed: 2 }), again: image({ sop, seed: 3 }), thrice: image({ sop, seed: 4 }) });
    const r = findDuplicates(input(files));
    assert.deepEqual(r.kept, ['first', 'other']);
    assert.deepEqual(r.duplicates.map((d) => [d.key, d.of, d.reason]), [['again', 'first', QcReason.DUPLICATE_UID], ['thrice', 'first', QcReason.DUPLICATE_UID]]);
  });

  it('same pixels under different UIDs (a re-export), including across transfer syntaxes of the same stream', async () => {
    const files = await factsOf({ a: image({ seed: 7 }), b: image({ seed: 8 }), reexport: image({ seed: 7 }) });
    assert.notEqual(files[0].facts.sopInstanceUid, files[2].facts.sopInstanceUid);
    const r = findDuplicates(input(files));
    assert.deepEqual(r.kept, ['a', 'b']);
    assert.deepEqual(r.duplicates.map((d) => [d.key, d.of, d.reason]), [['reexport', 'a', QcReason.DUPLICATE_PIXELS]]);
    // Explicit and implicit VR copies of the same MR slice carry the same Pixel Data value.
    const mr = await factsOf({ explicit: sample('pydicom__MR_small.dcm'), implicit: sample('pydicom__MR_small_implicit.dcm'), rle: sample('pydicom__MR_small_RLE.dcm') });
    const m = findDuplicates(input(mr.map((f, i) => ({ ...f, facts: { ...f.facts, sopInstanceUid: `x.${i}` } }))));
    assert.deepEqual(m.kept, ['explicit', 'rle']);
    assert.deepEqual(m.duplicates.map((d) => d.key), ['implicit']);
  });

  it('a duplicate does not claim its pixels: a later file matching only the duplicate is kept', async () => {
    const sop = '1.2.826.0.1.3680043.99.9.2';
    const files = await factsOf({ a: image({ sop, seed: 1 }), dupOfA: image({ sop, seed: 2 }), c: image({ seed: 2 }) });
    const r = findDuplicates(input(files));
    assert.deepEqual(r.kept, ['a', 'c']);
    assert.deepEqual(r.duplicates.map((d) => d.key), ['dupOfA']);
  });
});
