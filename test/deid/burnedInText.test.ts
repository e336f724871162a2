// Burned-in PHI: names, IDs and dates drawn into the pixels are found by OCR, judged against the
// file's own identifying attributes, and blanked in the stored pixels; orientation markers stay;
// an image OCR could not read stays held with the reason. Images are real (a CT slice and an
// ultrasound frame from ../shared) with text rendered into them in Debian's fonts.
import { GlobalFonts } from '@napi-rs/canvas';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deidentify } from '../../src/deid';
import {
  classifyWords, decideBurnedInHold, OcrEngine, readIdentifyingAttributes, redactBoxes, scanBurnedInText, type BurnedInScan, type OcrWord,
} from '../../src/deid/burnedInText';
import { decodeFrame, displayParsed, grayOf, parseImage } from '../../src/imaging';
import { context, readPart10, SAMPLES_DIR, writePart10 } from './fixtures';
import { burnText, type BurnedText } from '../support/burnedIn.js';
import { noDatabase } from '../support/once.js';

noDatabase('OCRs and blanks burned-in text in images in memory');

const CT_SLICE = path.resolve(process.cwd(), '../shared/seed-images/totalsegmentator/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016583');
const FONTS = '/usr/share/fonts/truetype';

type Text = BurnedText;

/** A 512x512 CT slice (display values) with text drawn in, as the secondary capture a workstation makes of it. */
async function secondaryCapture(texts: Text[], patient: { name: string; ideographic?: string; id: string; birthDate: string }): Promise<Buffer> {
  const grey = grayOf(await displayParsed(parseImage(fs.readFileSync(CT_SLICE)), 0));
  const pixels = burnText(grey, texts);
  return writePart10({
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] },
    '00080018': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.7.1'] },
    '00080060': { vr: 'CS', Value: ['OT'] },
    '00080080': { vr: 'LO', Value: ['Zhongshan Hospital'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: patient.name, ...(patient.ideographic ? { Ideographic: patient.ideographic } : {}) }] },
    '00100020': { vr: 'LO', Value: [patient.id] },
    '00100030': { vr: 'DA', Value: [patient.birthDate] },
    '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.7.2'] },
    '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.7.3'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [grey.height] },
    '00280011': { vr: 'US', Value: [grey.width] },
    '00280100': { vr: 'US', Value: [8] },
    '00280101': { vr: 'US', Value: [8] },
    '00280102': { vr: 'US', Value: [7] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OB', Value: [pixels.buffer] },
  });
}

async function display(part10: Uint8Array): Promise<{ width: number; data: Uint8Array }> {
  return grayOf(await displayParsed(parseImage(part10), 0));
}

function covered(scan: BurnedInScan, x: number, y: number): boolean {
  return scan.regions.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);
}

/** Every OCR word of the stored image, normalised and joined: what a reader could still get out of it. */
async function readBack(engine: OcrEngine, part10: Uint8Array): Promise<string> {
  const grey = grayOf(await displayParsed(parseImage(part10), 0));
  return (await engine.recognize(grey)).map((w) => w.text).join(' ').toUpperCase();
}

const PATIENT = { name: 'ZHANG^WEI', ideographic: '张^伟', id: '4839201', birthDate: '19610314' };

describe('burned-in text: OCR redaction', () => {
  let engine: OcrEngine;
  before(() => {
    GlobalFonts.registerFromPath(path.join(FONTS, 'dejavu/DejaVuSans.ttf'), 'DejaVu Sans');
    GlobalFonts.registerFromPath(path.join(FONTS, 'wqy/wqy-microhei.ttc'), 'WenQuanYi Micro Hei');
    engine = new OcrEngine(60_000);
  });
  after(() => engine.close());

  it("blanks the patient's name, ID and birth date drawn on a secondary capture, and keeps the R/L markers", async () => {
    const source = await secondaryCapture([
      { text: 'ZHANG^WEI', x: 12, y: 30, size: 18 },
      { text: 'ID 4839201', x: 12, y: 54, size: 18 },
      { text: 'DOB 1961-03-14', x: 12, y: 78, size: 18 },
      { text: 'R', x: 20, y: 260, size: 22 },
      { text: 'L', x: 480, y: 260, size: 22 },
    ], PATIENT);
    const deid = deidentify(source, context());
    assert.match(deid.heldForPixelReview ?? '', /secondary capture/);
    const scan = await scanBurnedInText(deid.output, readIdentifyingAttributes(source), { engine });
    assert.equal(scan.verdict, 'redacted', scan.reason ?? '');
    assert.ok(scan.output, 'a redacted file');
    // Inside each line of PHI (a point on a glyph of each) and not on the markers.
    for (const [x, y] of [[40, 24], [60, 48], [80, 72]]) assert.ok(covered(scan, x, y), `(${x}, ${y}) blanked`);
    assert.ok(!covered(scan, 26, 252), 'R marker kept');
    assert.ok(!covered(scan, 486, 252), 'L marker kept');
    const before = await display(deid.output);
    const afterImg = await display(scan.output);
    assert.equal(afterImg.data[24 * 512 + 40], afterImg.data[scan.regions[0].y * 512 + scan.regions[0].x], 'a blanked region is one flat value');
    assert.equal(afterImg.data[252 * 512 + 26], before.data[252 * 512 + 26], 'R marker pixels unchanged');
    // What a reader can get out of the stored pixels: no name, no ID, no birth date; the markers still there.
    const text = await readBack(engine, scan.output);
    assert.doesNotMatch(text, /ZHANG|4839201|1961/);
    // The de-identification record says what was done.
    const out = readPart10(scan.output).dict;
    assert.equal(out['00280301'].Value?.[0], 'NO');
    assert.ok((out['00120064'].Value as Record<string, { Value?: unknown[] }>[]).some((c) => c['00080100'].Value?.[0] === '113101'));
    assert.ok((out['00120063'].Value as string[]).some((v) => /Burned-in text: \d+ region\(s\) blanked after OCR/.test(v)));
    assert.equal(readPart10(scan.output).meta['00020010'].Value?.[0], '1.2.840.10008.1.2.1');
    // The verdict keeps no text: nothing a log or the database gets can leak the name.
    assert.doesNotMatch(JSON.stringify({ ...scan, output: null }), /ZHANG|4839201|1961/);
  });

  it('blanks a name written in Han characters, as OBIA submitters write it', async () => {
    const source = await secondaryCapture([
      { text: '姓名: 张伟', x: 330, y: 480, size: 22, family: 'WenQuanYi Micro Hei' },
      { text: 'R', x: 20, y: 260, size: 22 },
    ], PATIENT);
    const deid = deidentify(source, context());
    const scan = await scanBurnedInText(deid.output, readIdentifyingAttributes(source), { engine });
    assert.equal(scan.verdict, 'redacted', scan.reason ?? '');
    assert.ok(covered(scan, 440, 472), 'the name blanked');
    assert.ok(!covered(scan, 26, 252), 'R marker kept');
  });

  it('leaves an image with only an orientation marker and a scale bar alone', async () => {
    const source = await secondaryCapture([
      { text: 'R', x: 20, y: 260, size: 22 },
      { text: '5 cm', x: 420, y: 490, size: 16 },
    ], PATIENT);
    const deid = deidentify(source, context());
    const scan = await scanBurnedInText(deid.output, readIdentifyingAttributes(source), { engine });
    assert.equal(scan.output, null, 'nothing blanked');
    assert.deepEqual(scan.regions, []);
    assert.notEqual(scan.verdict, 'failed');
  });

  it('keeps the hold, with the reason, when OCR times out', async () => {
    const source = await secondaryCapture([{ text: 'ZHANG^WEI', x: 12, y: 30, size: 18 }], PATIENT);
    const deid = deidentify(source, context());
    const scan = await scanBurnedInText(deid.output, readIdentifyingAttributes(source), { timeoutMs: 1 });
    assert.equal(scan.verdict, 'failed');
    assert.match(scan.reason ?? '', /OCR could not run: OCR did not finish within 1 ms/);
    assert.equal(scan.output, null);
    const decided = decideBurnedInHold(deid.heldForPixelReview, scan, 'redacted');
    assert.match(decided.held ?? '', /secondary capture.*OCR could not run/);
  });

  it('keeps the hold when the pixels cannot be decoded for OCR', async () => {
    const source = await secondaryCapture([], PATIENT);
    const deid = deidentify(source, context());
    // Pixel Data cut short: OCR has nothing it can read.
    const truncated = deid.output.subarray(0, deid.output.length - 100_000);
    const scan = await scanBurnedInText(truncated, readIdentifyingAttributes(source), { engine });
    assert.equal(scan.verdict, 'failed');
    assert.match(scan.reason ?? '', /OCR could not run/);
    assert.ok(decideBurnedInHold('ultrasound image', scan, 'clean').held);
  });
});

describe('burned-in text: redaction of compressed pixel data', () => {
  for (const sample of ['pydicom__MR_small_RLE.dcm', 'pydicom__MR_small_jpeg_ls_lossless.dcm', 'pydicom__MR_small_jp2klossless.dcm', 'pydicom__SC_rgb_jpeg_dcmtk.dcm', 'pydicomdata__US1_J2KR.dcm']) {
    it(`decodes, blanks and stores ${sample} as native Explicit VR Little Endian`, async () => {
      const input = fs.readFileSync(path.join(SAMPLES_DIR, sample));
      const original = await decodeFrame(input, 0);
      const box = { x: 2, y: 3, w: 10, h: 6 };
      const { output, transferSyntaxUid } = await redactBoxes(input, [box], 'Burned-in text: 1 region(s) blanked after OCR');
      assert.equal(transferSyntaxUid, '1.2.840.10008.1.2.1');
      const redacted = await decodeFrame(output, 0);
      assert.equal(redacted.rows, original.rows);
      const spp = redacted.samplesPerPixel;
      const at = (f: typeof original, x: number, y: number, s = 0) => f.data[(y * f.columns + x) * spp + s];
      const blank = at(redacted, 2, 3);
      for (let y = 3; y < 9; y++) for (let x = 2; x < 12; x++) assert.equal(at(redacted, x, y), blank, `(${x}, ${y}) blank`);
      // Outside the box the pixels are what the original decodes to (lossless re-encoding).
      for (const [x, y] of [[20, 20], [0, 0], [original.columns - 1, original.rows - 1], [12, 9]]) {
        for (let s = 0; s < spp; s++) assert.equal(at(redacted, x, y, s), at(original, x, y, s), `(${x}, ${y}) kept`);
      }
      assert.equal(readPart10(output).dict['00280301'].Value?.[0], 'NO');
    });
  }
});

describe('burned-in text: what counts as PHI', () => {
  const attrs = { names: ['ZHANG^WEI', '张^伟'], ids: ['4839201'], dates: ['19610314'], institutions: ['Zhongshan Hospital'] };
  const word = (text: string, line: number, x: number, confidence = 90): OcrWord => ({ text, confidence, line, box: { x, y: line * 20, w: 10 * text.length, h: 14 } });
  const kinds = (words: OcrWord[]) => classifyWords(words, attrs).map((w) => (w.cls.kind === 'phi' ? `phi:${w.cls.why}` : w.cls.kind));

  it("matches the file's own values through OCR's usual misreadings", () => {
    assert.deepEqual(kinds([word('ZHANG', 0, 0), word('WEl', 0, 60)]), ['phi:name', 'phi:name']);
    assert.deepEqual(kinds([word('1961-O3-14', 1, 0)]), ['phi:date']);
    assert.deepEqual(kinds([word('14-MAR-1961', 2, 0)]), ['phi:date']);
    assert.deepEqual(kinds([word('ID:', 3, 0), word('483920l', 3, 40)]), ['text', 'phi:id']);
  });

  it('knows PHI by its shape when the header does not name it', () => {
    assert.deepEqual(kinds([word('2019/07/02', 0, 0)]), ['phi:date-pattern']);
    assert.deepEqual(kinds([word('MRN', 1, 0), word('A7731902', 1, 40)]), ['text', 'phi:id-pattern']);
    assert.deepEqual(kinds([word('Name:', 2, 0), word('Okafor', 2, 60)]), ['text', 'phi:labelled']);
    assert.deepEqual(kinds([word('李秀英', 3, 0)]), ['phi:han-name']);
  });

  it('leaves orientation markers, measurements and times alone', () => {
    assert.deepEqual(kinds([word('L', 0, 0), word('R', 0, 400), word('5cm', 1, 0), word('12.5', 1, 100), word('3.5MHz', 2, 0), word('11:24:20', 2, 200), word('LAO', 3, 0)]),
      ['harmless', 'harmless', 'harmless', 'harmless', 'harmless', 'harmless', 'harmless']);
  });
});

describe('burned-in text: who lifts the hold', () => {
  const base = { regions: [], counts: { words: 0, phi: 0, harmless: 0, text: 0, unread: 0 }, frames: [0], output: null, transferSyntaxUid: null };
  const clean: BurnedInScan = { ...base, verdict: 'clean', reason: null };
  const redacted: BurnedInScan = { ...base, verdict: 'redacted', reason: 'burned-in PHI blanked in 2 region(s)', output: Buffer.alloc(1), regions: [{ x: 1, y: 1, w: 5, h: 5, why: 'name' }] };

  it('a clean verdict lifts the hold unless only curators may', () => {
    assert.equal(decideBurnedInHold('ultrasound image', clean, 'clean').held, null);
    assert.equal(decideBurnedInHold('ultrasound image', clean, 'never').held, 'ultrasound image');
  });

  it('a redaction waits for a curator, who sees the regions, unless configured otherwise', () => {
    const d = decideBurnedInHold('ultrasound image', redacted, 'clean');
    assert.match(d.held ?? '', /ultrasound image; burned-in PHI blanked in 2 region\(s\): a curator confirms the redaction/);
    assert.deepEqual(d.record.regions, redacted.regions);
    assert.equal(d.record.redacted, true);
    assert.equal(decideBurnedInHold('ultrasound image', redacted, 'redacted').held, null);
  });
});
