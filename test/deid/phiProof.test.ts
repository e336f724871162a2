// THE PHI PROOF. Every attribute of PS3.15 Table E.1-1 is filled with a unique marker,
// in a file the way a modality would send it (nested sequences, private blocks, file
// meta, non-ASCII names). After de-identification no marker may be left anywhere in the
// output bytes, except those an enabled option retains, which must be left. Checking
// both directions keeps the test from passing on an empty or broken output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deidentify, OBIA_DEFAULT_OPTIONS, type DeidOptions } from '../../src/deid';
import { dictionaryVr, type DicomDataset, type DicomElement } from '../../src/dicom';
import { context, DATA_DIR, rawPart10, readPart10, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('de-identifies files in memory');

interface Row { tag: string; name: string; basicProfile: string; [column: string]: string }
const TABLE: Row[] = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'table_e1_1.json'), 'utf8'));

const OPTION_COLUMNS: Record<keyof DeidOptions, string | null> = {
  cleanPixelData: null,
  cleanDescriptors: 'cleanDescOpt',
  retainLongitudinalModifiedDates: 'rtnLongModifDatesOpt',
  retainPatientCharacteristics: 'rtnPatCharsOpt',
  retainDeviceIdentity: 'rtnDevIdOpt',
  retainSafePrivate: 'rtnSafePrivOpt',
};

/** Independent reading of the table: does this attribute's value survive untouched? */
function retained(row: Row, vr: string, options: DeidOptions): boolean {
  const codes = (Object.keys(OPTION_COLUMNS) as (keyof DeidOptions)[])
    .filter((o) => options[o] && OPTION_COLUMNS[o] && row[OPTION_COLUMNS[o]!])
    .map((o) => row[OPTION_COLUMNS[o]!]);
  const code = codes.length === 0 ? row.basicProfile : codes.includes('C') ? 'C' : codes[0];
  if (code === 'K') return vr !== 'SQ';
  // Modified dates move whole days; a time of day carries no date and is kept.
  return code === 'C' && vr === 'TM';
}

const TEXT_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR']);
const BYTES_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

interface Marker { tag: string; text: string; retained: boolean }

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A unique value valid for the VR, and the exact text to search for in the output. */
function markerFor(vr: string, tag: string, i: number): { el: DicomElement; text: string | null } {
  const id = `PHI${tag}`; // 11 chars: fits AE, CS, SH
  if (vr === 'PN') return { el: { vr, Value: [{ Alphabetic: `${id}^Name` }] }, text: id };
  if (vr === 'CS') return { el: { vr, Value: [`PHI_${tag}`] }, text: `PHI_${tag}` };
  if (TEXT_VRS.has(vr)) return { el: { vr, Value: [vr === 'UR' ? `http://${id}.example` : id] }, text: id };
  if (vr === 'DA' || vr === 'DT') {
    // Dates one week apart from 1931 on: a -400 day shift (not a multiple of 7) can
    // never turn one marker into another.
    const d = new Date(Date.UTC(1931, 0, 1) + i * 7 * 86_400_000);
    const da = `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
    return vr === 'DA' ? { el: { vr, Value: [da] }, text: da } : { el: { vr, Value: [`${da}101010`] }, text: `${da}101010` };
  }
  if (vr === 'TM') {
    const t = `${pad2(Math.floor(i / 60) % 24)}${pad2(i % 60)}${pad2(59 - (i % 60))}.4242`;
    return { el: { vr, Value: [t] }, text: t };
  }
  if (vr === 'UI') {
    const uid = `1.2.826.0.1.3680043.777.${i}.${parseInt(tag, 16)}`;
    return { el: { vr, Value: [uid] }, text: uid };
  }
  if (vr === 'IS') return { el: { vr, Value: [String(773000000 + i)] }, text: String(773000000 + i) };
  if (vr === 'DS') return { el: { vr, Value: [`88${i}.${i}77`] }, text: `88${i}.${i}77` };
  if (vr === 'AS') return { el: { vr, Value: ['077Y'] }, text: '077Y' };
  if (BYTES_VRS.has(vr)) {
    const text = `PHB${tag}XXXXX`;
    return { el: { vr, Value: [Buffer.from(text, 'latin1').buffer.slice(0)] }, text };
  }
  // Binary numbers are checked by value after parsing rather than as bytes.
  return { el: { vr, Value: [vr === 'FL' || vr === 'FD' ? 7777.25 + i : 31000 + (i % 2000)] }, text: null };
}

interface Fixture { file: Buffer; markers: Marker[]; binary: { tag: string; value: unknown; retained: boolean }[]; skipped: string[] }

function nestedItem(tag: string): DicomDataset {
  return {
    '00080080': { vr: 'LO', Value: [`PHINEST${tag}`] }, // Institution Name: X/Z/D
    '00081155': { vr: 'UI', Value: [`1.2.826.0.1.3680043.778.${parseInt(tag, 16)}`] }, // Referenced SOP Instance UID: U
    '00400275': {
      vr: 'SQ',
      Value: [{ '00321060': { vr: 'LO', Value: [`PHIDEEP${tag}`] } }], // Requested Procedure Description inside a removed sequence
    },
    '0040A730': {
      vr: 'SQ', // Content Sequence (X under the Basic Profile) three levels down
      Value: [{ '0040A123': { vr: 'PN', Value: [{ Alphabetic: `PHIPN3${tag}` }] } }],
    },
  };
}

function buildFixture(options: DeidOptions): Fixture {
  const ds: DicomDataset = {
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
  };
  const markers: Marker[] = [];
  const binary: Fixture['binary'] = [];
  const skipped: string[] = [];
  TABLE.forEach((row, i) => {
    const tag = row.tag.replace(/[(),]/g, '').toUpperCase();
    if (!/^[0-9A-F]{8}$/.test(tag) || tag.startsWith('0000') || tag.startsWith('0002') || tag.startsWith('FFF') || tag === '00080018') return;
    const vr = (dictionaryVr(tag) ?? '').split(/ or |\|/)[0];
    if (!vr || vr === 'xs' || vr === 'ox' || vr === 'AT' || vr === 'SV' || vr === 'UV') {
      skipped.push(tag);
      return;
    }
    if (vr === 'SQ') {
      ds[tag] = { vr, Value: [nestedItem(tag)] };
      for (const t of [`PHINEST${tag}`, `PHIDEEP${tag}`, `PHIPN3${tag}`]) markers.push({ tag, text: t, retained: false });
      markers.push({ tag, text: `1.2.826.0.1.3680043.778.${parseInt(tag, 16)}`, retained: false });
      return;
    }
    const { el, text } = markerFor(vr, tag, i);
    ds[tag] = el;
    const keep = retained(row, vr, options) && tag !== '00100010' && tag !== '00100020';
    if (text) markers.push({ tag, text, retained: keep });
    else binary.push({ tag, value: el.Value?.[0], retained: keep });
  });
  // Repeating groups given as patterns in the table.
  ds['50000030'] = { vr: 'SH', Value: ['PHICURVE'] };
  ds['60000010'] = { vr: 'US', Value: [8] };
  ds['60000011'] = { vr: 'US', Value: [8] };
  ds['60003000'] = { vr: 'OW', Value: [Buffer.from('PHIOVERLAYDATA00', 'latin1').buffer.slice(0)] };
  ds['60024000'] = { vr: 'LT', Value: ['PHIOVERLAYCOMMENT'] };
  markers.push({ tag: '50xx', text: 'PHICURVE', retained: false }, { tag: '60xx3000', text: 'PHIOVERLAYDATA00', retained: false }, { tag: '60xx4000', text: 'PHIOVERLAYCOMMENT', retained: false });
  // Private block: text goes, numbers stay (the OBIA rule), a creator-less element goes.
  ds['00990010'] = { vr: 'LO', Value: ['OBIA TEST CREATOR'] };
  ds['00991001'] = { vr: 'LO', Value: ['PHIPRIVATETEXT'] };
  ds['00991002'] = { vr: 'DS', Value: ['31415.9265'] };
  ds['00991003'] = { vr: 'LO', Value: ['271828\\-1.5e3'] };
  ds['00991004'] = { vr: 'UN', Value: [Buffer.from('PHIPRIVATEUNTEXT', 'latin1').buffer.slice(0)] };
  ds['00991005'] = { vr: 'SQ', Value: [{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'PHIPRIVSEQNAME' }] } }] };
  ds['00991010'] = { vr: 'OB', Value: [Buffer.from('PHIPRIVATEBYTES!', 'latin1').buffer.slice(0)] };
  ds['00993001'] = { vr: 'LO', Value: ['PHINOCREATOR'] };
  // Safe private (Table E.3.10-1): GEMS_ACQU_01 (0019,xx9E) is LO text, kept only with Retain Safe Private.
  ds['00190010'] = { vr: 'LO', Value: ['GEMS_ACQU_01'] };
  ds['0019109E'] = { vr: 'LO', Value: ['SAFEPRIVATETEXT'] };
  markers.push(
    { tag: '00991001', text: 'PHIPRIVATETEXT', retained: false },
    { tag: '00991002', text: '31415.9265', retained: true },
    { tag: '00991003', text: '271828\\-1.5e3', retained: true },
    { tag: '00991004', text: 'PHIPRIVATEUNTEXT', retained: false },
    { tag: '00991005', text: 'PHIPRIVSEQNAME', retained: false },
    { tag: '00991010', text: 'PHIPRIVATEBYTES!', retained: false },
    { tag: '00993001', text: 'PHINOCREATOR', retained: false },
    { tag: '0019109E', text: 'SAFEPRIVATETEXT', retained: options.retainSafePrivate },
  );
  // File meta carries the sender's AE title and the instance UID too.
  const sopInstance = '1.2.826.0.1.3680043.779.1';
  ds['00080018'] = { vr: 'UI', Value: [sopInstance] };
  markers.push({ tag: '00080018', text: sopInstance, retained: false });
  const extraMeta: DicomDataset = {
    '00020003': { vr: 'UI', Value: [sopInstance] },
    '00020016': { vr: 'AE', Value: ['PHISOURCEAE'] },
    '00020100': { vr: 'UI', Value: ['1.2.826.0.1.3680043.779.2'] },
    '00020102': { vr: 'OB', Value: [Buffer.from('PHIMETAPRIVATE', 'latin1').buffer.slice(0)] },
  };
  markers.push(
    { tag: '00020016', text: 'PHISOURCEAE', retained: false },
    { tag: '00020100', text: '1.2.826.0.1.3680043.779.2', retained: false },
    { tag: '00020102', text: 'PHIMETAPRIVATE', retained: false },
  );
  return { file: writePart10(ds, extraMeta), markers, binary, skipped };
}

function leaks(output: Buffer, markers: Marker[]): { leaked: Marker[]; missing: Marker[] } {
  const latin1 = output.toString('latin1');
  const utf8 = output.toString('utf8');
  const found = (m: Marker) => latin1.includes(m.text) || utf8.includes(m.text) || latin1.includes(Buffer.from(m.text, 'utf8').toString('latin1'));
  return { leaked: markers.filter((m) => !m.retained && found(m)), missing: markers.filter((m) => m.retained && !found(m)) };
}

const PROFILES: [string, DeidOptions][] = [
  ['OBIA profile (all six options)', OBIA_DEFAULT_OPTIONS],
  ['Basic Profile without options', { cleanPixelData: false, cleanDescriptors: false, retainLongitudinalModifiedDates: false, retainPatientCharacteristics: false, retainDeviceIdentity: false, retainSafePrivate: false }],
];

describe('PHI proof: no Table E.1-1 value survives unless an option retains it', () => {
  for (const [label, options] of PROFILES) {
    it(`${label}: every marker removed or replaced, every retained one still there`, () => {
      const fx = buildFixture(options);
      assert.ok(fx.markers.length > 500, `expected markers for most of the 621 rows, got ${fx.markers.length}`);
      assert.ok(fx.skipped.length < 40, `too many rows without a usable VR: ${fx.skipped.join(' ')}`);
      const input = fx.file.toString('latin1');
      for (const m of fx.markers) assert.ok(input.includes(m.text), `fixture lacks marker ${m.text} (${m.tag})`);

      const result = deidentify(fx.file, context(options));
      const { leaked, missing } = leaks(result.output, fx.markers);
      assert.deepEqual(leaked.map((m) => `${m.tag} ${m.text}`), [], 'identifying values left in the output');
      assert.deepEqual(missing.map((m) => `${m.tag} ${m.text}`), [], 'values an option retains were lost');

      const out = readPart10(result.output).dict;
      for (const b of fx.binary) {
        const v = out[b.tag]?.Value?.[0];
        if (b.retained) assert.equal(v, b.value, `${b.tag} should be retained`);
        else assert.notEqual(v, b.value, `${b.tag} still holds its source value`);
      }
      const actionsText = JSON.stringify(result.actions);
      for (const m of fx.markers) assert.ok(!actionsText.includes(m.text), `the action log repeats ${m.text}`);
    });
  }

  it('a latin-1 file (ISO_IR 100) with non-ASCII names leaves no trace of them in either encoding', () => {
    const latin1 = (s: string) => Buffer.from(s, 'latin1');
    const file = rawPart10([
      { tag: '00080005', vr: 'CS', value: latin1('ISO_IR 100') },
      { tag: '00080016', vr: 'UI', value: latin1('1.2.840.10008.5.1.4.1.1.7') },
      { tag: '00080018', vr: 'UI', value: latin1('1.2.3.4.99') },
      { tag: '00080080', vr: 'LO', value: latin1('Klinikum Südstadt Zürich') },
      { tag: '00080090', vr: 'PN', value: latin1('Dr. Öztürk^Ümit') },
      { tag: '00081030', vr: 'LO', value: latin1('Schädel nativ Müller') },
      { tag: '00100010', vr: 'PN', value: latin1('Müller^Jürgen=Mueller^Juergen') },
      { tag: '00100020', vr: 'LO', value: latin1('PID-ÄÖÜ-77') },
      { tag: '00101040', vr: 'LO', value: latin1('Hauptstraße 5, Köln') },
    ]);
    const result = deidentify(file, context());
    const text = [result.output.toString('latin1'), result.output.toString('utf8')];
    for (const phi of ['Südstadt', 'Öztürk', 'Müller', 'Mueller', 'Jürgen', 'ÄÖÜ', 'Hauptstraße', 'Köln', 'Schädel']) {
      for (const t of text) {
        assert.ok(!t.includes(phi), `"${phi}" survived`);
        assert.ok(!t.includes(Buffer.from(phi, 'utf8').toString('latin1')), `"${phi}" survived as UTF-8`);
      }
    }
    assert.equal((result.dataset as { PatientName?: { Alphabetic: string }[] }).PatientName?.[0]?.Alphabetic, 'OBIA-IND-000042');
  });

  it('multi-valued character sets (ISO 2022 with escapes) are read and their names removed', () => {
    const esc = (s: string) => Buffer.from(s.replace(/\\e/g, '\x1b'), 'latin1');
    // Latin-1 through ISO 2022 code extension: ESC - A designates ISO-IR 100 into G1.
    const file = rawPart10([
      { tag: '00080005', vr: 'CS', value: esc('ISO 2022 IR 6\\ISO 2022 IR 100') },
      { tag: '00080016', vr: 'UI', value: esc('1.2.840.10008.5.1.4.1.1.7') },
      { tag: '00080018', vr: 'UI', value: esc('1.2.3.4.98') },
      { tag: '00080080', vr: 'LO', value: Buffer.concat([esc('\\e-A'), Buffer.from('Hôpital Bégin', 'latin1')]) },
      { tag: '00100010', vr: 'PN', value: Buffer.concat([esc('\\e-A'), Buffer.from('Lefèvre^Zoé', 'latin1')]) },
    ]);
    const result = deidentify(file, context());
    for (const t of [result.output.toString('latin1'), result.output.toString('utf8')]) {
      for (const phi of ['Hôpital', 'Bégin', 'Lefèvre', 'Zoé']) {
        assert.ok(!t.includes(phi) && !t.includes(Buffer.from(phi, 'utf8').toString('latin1')), `"${phi}" survived`);
      }
    }
  });
});
