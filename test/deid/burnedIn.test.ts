// Images that may show a name or date in their pixels must not be released unseen:
// they are held for pixel review, unless a known device layout lets Clean Pixel Data
// blank the text regions, in which case the blanked image is released.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deidentify } from '../../src/deid';
import { context, imageDataset, readPart10, str, US_IMAGE_STORAGE, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('decides pixel review and blanks known layouts in memory');

function ultrasound(manufacturer: string, model: string, rows: number, columns: number) {
  return writePart10(imageDataset(rows, columns, 0x0abc, {
    '00080016': { vr: 'UI', Value: [US_IMAGE_STORAGE] },
    '00080060': { vr: 'CS', Value: ['US'] },
    '00080070': { vr: 'LO', Value: [manufacturer] },
    '00081090': { vr: 'LO', Value: [model] },
  }));
}

function pixel(ds: ReturnType<typeof readPart10>['dict'], columns: number, x: number, y: number): number {
  const bytes = ds['7FE00010'].Value![0] as ArrayBuffer;
  return new Uint16Array(bytes)[y * columns + x];
}

describe('burned-in annotation', () => {
  it('holds an ultrasound image with no matching device rule, saying why', () => {
    const r = deidentify(ultrasound('ALOKA', 'SSD-4000', 48, 64), context());
    assert.match(r.heldForPixelReview ?? '', /ultrasound/);
    assert.match(r.heldForPixelReview ?? '', /BurnedInAnnotation is absent/);
  });

  it('holds BurnedInAnnotation YES, secondary capture and workstation screen captures; releases a plain CT', () => {
    const yes = writePart10(imageDataset(4, 4, 1, { '00280301': { vr: 'CS', Value: ['YES'] } }));
    assert.match(deidentify(yes, context()).heldForPixelReview ?? '', /BurnedInAnnotation is YES/);
    const sc = writePart10(imageDataset(4, 4, 1, { '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7.2'] } }));
    assert.match(deidentify(sc, context()).heldForPixelReview ?? '', /secondary capture/);
    const wsd = writePart10(imageDataset(4, 4, 1, { '00080064': { vr: 'CS', Value: ['WSD'] } }));
    assert.match(deidentify(wsd, context()).heldForPixelReview ?? '', /screen capture/);
    assert.equal(deidentify(writePart10(imageDataset(4, 4, 1)), context()).heldForPixelReview, null);
  });

  it('blanks the Acuson Sequoia header band (CTP rule) and releases the image', () => {
    const r = deidentify(ultrasound('ACUSON', 'SEQUOIA', 480, 640), context());
    assert.equal(r.heldForPixelReview, null);
    const out = readPart10(r.output).dict;
    assert.equal(pixel(out, 640, 0, 0), 0);
    assert.equal(pixel(out, 640, 639, 29), 0, 'last pixel of the (0,0,640,30) region');
    assert.equal(pixel(out, 640, 0, 30), 0x0abc, 'first row below the region untouched');
    assert.equal(str(out, '00280301'), 'NO');
    assert.ok(r.actions.some((a) => a.tag === '7FE00010' && /blanked/.test(a.action)));
  });

  it('keeps the hold when Clean Pixel Data is off, even for a known device', () => {
    const r = deidentify(ultrasound('ACUSON', 'SEQUOIA', 480, 640), context({ cleanPixelData: false }));
    assert.match(r.heldForPixelReview ?? '', /ultrasound/);
    assert.equal(pixel(readPart10(r.output).dict, 640, 0, 0), 0x0abc);
  });

  it('keeps the hold when the device matches but the size does not', () => {
    const r = deidentify(ultrasound('ACUSON', 'SEQUOIA', 600, 800), context());
    assert.match(r.heldForPixelReview ?? '', /ultrasound/);
  });
});
