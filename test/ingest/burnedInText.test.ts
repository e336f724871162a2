// Burned-in PHI through ingest (issue 20): a submitter uploads an ultrasound image with the
// patient's name and ID drawn into its pixels; after processing, the archived file's pixels no
// longer read them (OCR'd back), its de-identification record says Clean Pixel Data was applied,
// curators see the redaction, and the hold for pixel review stands or lifts as configured. An
// image OCR could not check stays held with the reason. Images are real (an ultrasound frame and
// a radiograph from ../shared) with text rendered in Debian's fonts, as the eval corpus does.
import { GlobalFonts } from '@napi-rs/canvas';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { OcrEngine } from '../../src/deid/burnedInText/index.js';
import type { DicomDataset } from '../../src/dicom/index.js';
import { decodeFrameAtSize, displayParsed, grayOf, parseImage, toDisplay8 } from '../../src/imaging/index.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { readPart10, writePart10 } from '../support/dicom.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';
import { processToEnd } from '../support/kit.js';
import { burnText, type BurnedText } from '../support/burnedIn.js';

const SHARED = path.resolve(process.cwd(), '../shared');
const ULTRASOUND = path.join(SHARED, 'deid/dicom/pydicomdata__US1_J2KR.dcm');
const RADIOGRAPH = path.join(SHARED, 'deid/dicom/pydicomdata__RG3_J2KI.dcm');
const FONTS = '/usr/share/fonts/truetype';

const PATIENT = { name: 'WANG^FANG', id: '7301945', birthDate: '19580722' };

type Text = BurnedText;

/** A real image's first frame (display values) with text drawn in, as the DICOM a device or workstation writes. */
async function imageWithText(source: string, modality: 'US' | 'OT', texts: Text[]): Promise<Buffer> {
  const grey = grayOf(toDisplay8(await decodeFrameAtSize(fs.readFileSync(source), 0)));
  const pixels = burnText(grey, texts);
  const ds: DicomDataset = {
    '00080016': { vr: 'UI', Value: [modality === 'US' ? '1.2.840.10008.5.1.4.1.1.6.1' : '1.2.840.10008.5.1.4.1.1.7'] },
    '00080018': { vr: 'UI', Value: [uid()] },
    '00080060': { vr: 'CS', Value: [modality] },
    '00080080': { vr: 'LO', Value: ['Ruijin Hospital'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: PATIENT.name }] },
    '00100020': { vr: 'LO', Value: [PATIENT.id] },
    '00100030': { vr: 'DA', Value: [PATIENT.birthDate] },
    '0020000D': { vr: 'UI', Value: [uid()] },
    '0020000E': { vr: 'UI', Value: [uid()] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [grey.height] },
    '00280011': { vr: 'US', Value: [grey.width] },
    '00280100': { vr: 'US', Value: [8] },
    '00280101': { vr: 'US', Value: [8] },
    '00280102': { vr: 'US', Value: [7] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OB', Value: [pixels.buffer] },
  };
  return writePart10(ds);
}

/** The patient's name and ID in a dark corner of a real ultrasound frame (which already shows the device's own text). */
const ultrasoundWithPhi = () => imageWithText(ULTRASOUND, 'US', [
  { text: 'WANG^FANG', x: 24, y: 400, size: 18 },
  { text: 'ID 7301945', x: 24, y: 428, size: 18 },
]);
/**
 * A secondary capture of a radiograph (1760 px) with only an orientation marker: nothing to
 * redact, and nothing OCR cannot account for (soft-tissue texture of CT and MR often reads as
 * text-like marks, which keep an image held: see the eval's "released by a clean verdict").
 */
const captureWithMarkerOnly = () => imageWithText(RADIOGRAPH, 'OT', [{ text: 'R', x: 80, y: 900, size: 64 }]);

const CHECK = `burnedInText { verdict reason code redacted regions { x y w h why } frames phiWords unreadMarks previewUrl }`;

async function imageCheck(app: TestApp, token: string, imageUid: string): Promise<any> {
  const res = await app.gql(`query($uid: String!) { image(uid: $uid) { uid ${CHECK} } }`, { uid: imageUid }, token);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.image;
}

/** Everything OCR reads in an image's first frame, upper-cased: what a reader could still get out of it. */
async function readBack(engine: OcrEngine, part10: Uint8Array): Promise<string> {
  const grey = grayOf(await displayParsed(parseImage(part10), 0));
  return (await engine.recognize(grey)).map((w) => w.text).join(' ').toUpperCase();
}

async function ingest(app: TestApp, token: string, files: Buffer[]): Promise<any[]> {
  const sub = await createSubmission(app, token, { title: 'Burned-in text' });
  for (const [i, bytes] of files.entries()) assert.equal((await upload(app, token, sub.uploadUrl, bytes, `f${i}.dcm`)).status, 201);
  await processToEnd(app, token, sub.id);
  return (await fetchSubmission(app, token, sub.id)).files.map((f: any) => ({ ...f, submissionId: sub.id }));
}

before(() => GlobalFonts.registerFromPath(path.join(FONTS, 'dejavu/DejaVuSans.ttf'), 'DejaVu Sans'));

describe('burned-in PHI in ingest', () => {
  let app: TestApp;
  let token: string;
  let curator: string;
  let engine: OcrEngine;
  before(async () => {
    delete process.env.OBIA_BURNED_IN_RELEASE;
    app = await startTestApp();
    token = await submitter(app);
    curator = await app.token('curator-1', Role.CURATOR);
    engine = new OcrEngine(60_000);
  });
  after(async () => { await engine?.close(); await app?.stop(); delete process.env.OBIA_BURNED_IN_RELEASE; });

  it("blanks the patient's name and ID in the archived pixels, records Clean Pixel Data, and keeps the image held for a curator to confirm", async () => {
    const received = await ultrasoundWithPhi();
    // The premise: OCR reads the name and ID in what the submitter sent.
    assert.match(await readBack(engine, received), /WANG.*FANG[\s\S]*7301945/);
    const ct = makeCt({ patientId: 'CT-PLAIN', patientName: 'PLAIN^CT', studyUid: uid(), seriesUid: uid(), sopUid: uid(), size: 32 });
    const files = await ingest(app, token, [received, ct]);
    const [us, plain] = files;
    assert.equal(us.state, 'INDEXED', JSON.stringify(us));

    const stored = await LocalBlobStore.fromConfig(app.config).get(us.storedSha256);
    const text = await readBack(engine, stored);
    assert.doesNotMatch(text, /WANG|FANG|7301945|730194|301945/, 'the archived pixels no longer read the name or the ID');
    const ds = readPart10(stored).dict;
    assert.equal(ds['00280301'].Value?.[0], 'NO', 'Burned In Annotation: NO');
    const codes = (ds['00120064'].Value as DicomDataset[]).map((c) => c['00080100'].Value?.[0]);
    assert.ok(codes.includes('113101'), 'Clean Pixel Data Option in the de-identification method codes');
    assert.ok((ds['00120063'].Value as string[]).some((v) => /Burned-in text: \d+ region\(s\) blanked after OCR/.test(v)));

    // The default policy (clean): a redaction waits for a curator; the hold says why, by code.
    assert.match(us.heldForPixelReview, /^BURNED_IN_TEXT: ultrasound image.*burned-in PHI blanked in \d+ region/);
    const check = (await imageCheck(app, curator, us.imageUid)).burnedInText;
    assert.equal(check.verdict, 'REDACTED');
    assert.equal(check.redacted, true);
    assert.equal(check.code, 'BURNED_IN_TEXT');
    assert.ok(check.phiWords >= 2);
    // A region over each line of PHI (a point inside a glyph of each).
    for (const [x, y] of [[60, 393], [60, 421]]) {
      assert.ok(check.regions.some((r: any) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h), `(${x}, ${y}) is in a blanked region`);
    }
    assert.doesNotMatch(JSON.stringify(check), /WANG|FANG|7301945/, 'the record never quotes the text');

    // Curators see the regions drawn on the stored frame; nobody else sees the record or the drawing.
    const preview = await fetch(`${app.url}${check.previewUrl}`, { headers: { authorization: `Bearer ${curator}` } });
    assert.equal(preview.status, 200);
    assert.equal(preview.headers.get('content-type'), 'image/png');
    assert.equal((await preview.arrayBuffer()).byteLength > 1000, true);
    assert.equal((await fetch(`${app.url}${check.previewUrl}`, { headers: { authorization: `Bearer ${token}` } })).status, 403);
    assert.equal((await imageCheck(app, token, us.imageUid)).burnedInText, null, 'not for the submitter');

    // Ordinary CT is not read by OCR at all (OBIA_BURNED_IN_SCAN=held).
    assert.equal(plain.state, 'INDEXED');
    assert.equal(plain.heldForPixelReview, null);
    assert.equal((await imageCheck(app, curator, plain.imageUid)).burnedInText, null);
  });

  it('lifts the hold on a clean verdict by default, and keeps it when only curators may lift it', async () => {
    const [clean] = await ingest(app, token, [await captureWithMarkerOnly()]);
    assert.equal(clean.state, 'INDEXED');
    assert.equal(clean.heldForPixelReview, null, 'clean OCR verdict: released from the hold');
    const check = (await imageCheck(app, curator, clean.imageUid)).burnedInText;
    assert.deepEqual([check.verdict, check.redacted, check.regions, check.code], ['CLEAN', false, [], null]);
    const stored = await LocalBlobStore.fromConfig(app.config).get(clean.storedSha256);
    assert.notEqual(readPart10(stored).dict['00280301']?.Value?.[0], 'NO', 'nothing was redacted, so nothing claims it');

    process.env.OBIA_BURNED_IN_RELEASE = 'never';
    const [kept] = await ingest(app, token, [await captureWithMarkerOnly()]);
    assert.match(kept.heldForPixelReview, /secondary capture/, 'OBIA_BURNED_IN_RELEASE=never: the hold stands for a curator');
    assert.equal((await imageCheck(app, curator, kept.imageUid)).burnedInText.verdict, 'CLEAN');
  });
});

describe('burned-in PHI when OCR cannot run', () => {
  let app: TestApp;
  before(async () => {
    // Set before the app (and its worker threads, which copy the environment) starts.
    process.env.OBIA_BURNED_IN_TIMEOUT_MS = '1';
    app = await startTestApp();
  });
  after(async () => { await app?.stop(); delete process.env.OBIA_BURNED_IN_TIMEOUT_MS; });

  it('keeps the image held with the reason, never released unchecked', async () => {
    const token = await submitter(app);
    const curator = await app.token('curator-1', Role.CURATOR);
    const [file] = await ingest(app, token, [await ultrasoundWithPhi()]);
    assert.equal(file.state, 'INDEXED');
    assert.match(file.heldForPixelReview, /^BURNED_IN_OCR_FAILED: .*OCR could not run: OCR did not finish within 1 ms/);
    const check = (await imageCheck(app, curator, file.imageUid)).burnedInText;
    assert.deepEqual([check.verdict, check.code, check.redacted], ['FAILED', 'BURNED_IN_OCR_FAILED', false]);
    // The collection cannot be released while the image is held and its series unreviewed.
    const accession = (await app.gql(`query($id: ID!) { submission(id: $id) { collection { accession } } }`, { id: String(file.submissionId) }, token)).data.submission.collection.accession;
    const res = await app.gql(`mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason } } }`, { a: accession }, curator);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data.releaseCollection.released, false);
    assert.ok(res.data.releaseCollection.blockers.some((b: any) => b.reason === 'HELD_FOR_PIXEL_REVIEW'));
  });
});
