import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writePart10 } from '../deid/fixtures';
import { checkFile, QcReason, type FileCheckResult } from '../../src/qc/index';
import { CT_IMAGE_STORAGE, image, JPEG_BASELINE, sample } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('per-file QC checks in memory');

function reasons(r: FileCheckResult): string[] {
  return r.findings.map((f) => f.reason);
}

/** The first finding is what the file is quarantined for. */
async function quarantinedFor(bytes: Uint8Array): Promise<string> {
  const r = await checkFile(bytes);
  assert.ok(r.findings.length > 0, 'expected the file to be quarantined');
  for (const f of r.findings) assert.ok(f.message.length > 10, `a human message for ${f.reason}`);
  return r.findings[0].reason;
}

describe('checkFile: a clean image passes', () => {
  it('a crafted CT and the uncompressed and compressed samples have no findings', async () => {
    const clean = await checkFile(image());
    assert.deepEqual(clean.findings, []);
    assert.equal(clean.facts?.rows, 16);
    assert.equal(clean.facts?.pixelData?.length, 16 * 16 * 2);
    assert.match(clean.facts?.pixelData?.sha256 ?? '', /^[0-9a-f]{64}$/);
    for (const name of ['pydicom__CT_small.dcm', 'pydicom__MR_small_RLE.dcm', 'pydicom__MR_small_jp2klossless.dcm',
      'pydicom__MR_small_jpeg_ls_lossless.dcm', 'pydicom__JPGExtended.dcm', 'pydicom__SC_rgb_jpeg_dcmtk.dcm', 'pydicom__MR_small_bigendian.dcm']) {
      assert.deepEqual(reasons(await checkFile(sample(name))), [], name);
    }
  });

  it('a structured report without Pixel Data is not an image missing its pixels', async () => {
    assert.ok(!reasons(await checkFile(sample('pydicom__test-SR.dcm'))).includes(QcReason.NO_PIXEL_DATA));
    assert.deepEqual(reasons(await checkFile(sample('pydicom__rtstruct.dcm'))), []);
  });
});

describe('checkFile: each quarantine reason from a real file', () => {
  it('EMPTY: zero bytes', async () => {
    assert.equal(await quarantinedFor(new Uint8Array(0)), QcReason.EMPTY);
  });

  it('MISSING_HEADER: bytes that are not DICOM at all, and a dataset with a stray leading byte', async () => {
    assert.equal(await quarantinedFor(Buffer.from('PatientName,Study\nDoe^John,CT chest\n'.repeat(10))), QcReason.MISSING_HEADER);
    assert.equal(await quarantinedFor(sample('pydicom__no_meta.dcm')), QcReason.MISSING_HEADER);
  });

  it('BLANK_HEADER: File Meta with no dataset, and a dataset that names no object', async () => {
    const metaOnly = writePart10({});
    assert.equal(await quarantinedFor(metaOnly), QcReason.BLANK_HEADER);
    const anonymous = writePart10({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] }, '00100020': { vr: 'LO', Value: ['PAT-9'] } });
    const r = await checkFile(anonymous);
    assert.deepEqual(reasons(r), [QcReason.BLANK_HEADER]);
    // Messages never quote values: they can be PHI the file was quarantined before removing.
    assert.ok(!r.findings[0].message.includes('DOE'));
  });

  it('MISSING_PATIENT_ID: an image without PatientID, and one with an empty PatientID', async () => {
    assert.equal(await quarantinedFor(image({ patientId: null })), QcReason.MISSING_PATIENT_ID);
    assert.equal(await quarantinedFor(image({ patientId: '   ' })), QcReason.MISSING_PATIENT_ID);
  });

  it('MISSING_UID: an image without StudyInstanceUID', async () => {
    const r = await checkFile(image({ study: null }));
    assert.deepEqual(reasons(r), [QcReason.MISSING_UID]);
    assert.match(r.findings[0].message, /StudyInstanceUID/);
  });

  it('TRUNCATED: a file cut inside Pixel Data, and the truncated MR sample', async () => {
    const whole = image({ rows: 32, columns: 32 });
    assert.equal(await quarantinedFor(whole.subarray(0, whole.length - 100)), QcReason.TRUNCATED);
    assert.equal(await quarantinedFor(whole.subarray(0, 300)), QcReason.TRUNCATED);
    assert.equal(await quarantinedFor(sample('pydicom__MR_truncated.dcm')), QcReason.TRUNCATED);
  });

  it('PARSE_ERROR: an element with an invalid VR', async () => {
    const bytes = Buffer.from(image());
    // Overwrite the VR of the first dataset element (0008,0016 "UI") with bytes that are no VR.
    const at = bytes.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00, 0x55, 0x49]), 132 + 12 + 20);
    assert.ok(at > 0);
    bytes.write('Q!', at + 4, 'latin1');
    assert.equal(await quarantinedFor(bytes), QcReason.PARSE_ERROR);
  });

  it('NO_PIXEL_DATA: an image with Rows/Columns but no Pixel Data, and a CT object without either', async () => {
    assert.equal(await quarantinedFor(image({ pixels: null })), QcReason.NO_PIXEL_DATA);
    assert.equal(await quarantinedFor(image({ pixels: null, noGeometry: true })), QcReason.NO_PIXEL_DATA);
  });

  it('SHORT_PIXEL_DATA: a well-framed Pixel Data value that holds half the image', async () => {
    const half = new Uint8Array(16 * 16); // 16-bit image needs 512 bytes
    const r = await checkFile(image({ pixels: half }));
    assert.deepEqual(reasons(r), [QcReason.SHORT_PIXEL_DATA]);
    assert.match(r.findings[0].message, /256 bytes.*needs 512/);
  });

  it('CORRUPT_PIXEL_DATA: a JPEG frame that is not a JPEG stream, and a broken JPEG 2000 sample', async () => {
    const junk = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x40, 0x00, 1, 2, 3, 4, 5, 6]);
    const bytes = image({ bits: 8, rows: 8, columns: 8, pixels: junk, transferSyntax: JPEG_BASELINE });
    assert.equal(await quarantinedFor(bytes), QcReason.CORRUPT_PIXEL_DATA);
    assert.equal(await quarantinedFor(sample('pydicom__JPEG2000-embedded-sequence-delimiter.dcm')), QcReason.CORRUPT_PIXEL_DATA);
    // Without decoding the structure alone looks fine: the decode is what catches it.
    assert.deepEqual(reasons(await checkFile(bytes, { decodePixels: false })), []);
    assert.deepEqual(reasons(await checkFile(bytes, { decodePixels: 'compressed' })), [QcReason.CORRUPT_PIXEL_DATA]);
  });

  it('UNSUPPORTED_TRANSFER_SYNTAX: MPEG2 (known, no decoder) and an unknown UID', async () => {
    const frag = new Uint8Array([0, 0, 1, 0xb3, 9, 9, 9, 9]);
    for (const ts of ['1.2.840.10008.1.2.4.100', '1.2.826.0.1.3680043.99.77']) {
      const r = await checkFile(image({ bits: 8, rows: 8, columns: 8, pixels: frag, transferSyntax: ts }));
      assert.deepEqual(reasons(r), [QcReason.UNSUPPORTED_TRANSFER_SYNTAX], ts);
      assert.ok(r.findings[0].message.includes(ts));
    }
  });

  it('several problems are all reported, the unrepairable one first', async () => {
    const r = await checkFile(image({ patientId: null, pixels: new Uint8Array(10) }));
    assert.deepEqual(reasons(r), [QcReason.SHORT_PIXEL_DATA, QcReason.MISSING_PATIENT_ID]);
  });

  it('SOP class decides whether pixels are expected', async () => {
    assert.equal(CT_IMAGE_STORAGE, '1.2.840.10008.5.1.4.1.1.2');
    const sr = image({ pixels: null, noGeometry: true, extra: { '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.33'] } } });
    assert.deepEqual(reasons(await checkFile(sr)), []);
  });
});
