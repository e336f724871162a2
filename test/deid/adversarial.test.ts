// Whatever a submitter uploads, deidentify answers with a result or a DicomParseError the
// pipeline can quarantine: never another exception, never a hang.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deidentify, DicomParseError, readSourceIdentity } from '../../src/deid';
import { withSeed } from '../support/random.js';
import { context, imageDataset, SAMPLES_DIR, writePart10 } from './fixtures';
import { noDatabase } from '../support/once.js';

noDatabase('de-identifies garbage and corrupted files in memory');

function refused(input: Uint8Array, pattern?: RegExp): void {
  assert.throws(() => deidentify(input, context()), (e: unknown) => {
    assert.ok(e instanceof DicomParseError, `expected DicomParseError, got ${String(e)}`);
    if (pattern) assert.match(e.reason, pattern);
    return true;
  });
  assert.throws(() => readSourceIdentity(input), DicomParseError);
}

const valid = writePart10(imageDataset(8, 8, 7, { '00100020': { vr: 'LO', Value: ['MRN-1'] } }));

describe('adversarial input', () => {
  it('refuses a 0-byte file', () => refused(new Uint8Array(0), /empty/));

  // Seeded: a failure names the seed that repeats it (OBIA_TEST_SEED).
  it('refuses garbage bytes', () => withSeed((random) => {
    for (let i = 0; i < 50; i++) refused(random.bytes(random.int(1, 2000)));
  }));

  it('refuses a file whose preamble is followed by something other than DICM', () => {
    const bad = Buffer.from(valid);
    bad.write('DICX', 128, 'latin1');
    refused(bad, /not a DICOM file/);
  });

  it('refuses every truncation of a valid file', () => {
    // valid.length - 140 cuts exactly before Pixel Data: well-formed, but an image without pixels.
    const cut = [1, 100, 131, 132, 140, 200, 300, valid.length - 140, valid.length - 130, valid.length - 1];
    for (const n of cut) refused(valid.subarray(0, n));
  });

  it('refuses a garbage VR', () => {
    const bad = Buffer.from(valid);
    const at = bad.indexOf(Buffer.from([0x10, 0x00, 0x20, 0x00, 0x4c, 0x4f])); // (0010,0020) LO
    assert.ok(at > 0);
    bad.write('\x01z', at + 4, 'latin1');
    refused(bad, /invalid VR/);
  });

  it('refuses a length that points past the end of the file', () => {
    const bad = Buffer.from(valid);
    const at = bad.indexOf(Buffer.from([0x10, 0x00, 0x20, 0x00, 0x4c, 0x4f]));
    bad.writeUInt16LE(0xfff0, at + 6);
    refused(bad, /truncated/);
  });

  it('survives random corruption of real samples without any other exception', () => withSeed((random) => {
    const sample = fs.readFileSync(path.join(SAMPLES_DIR, 'pydicom__CT_small.dcm'));
    for (let i = 0; i < 40; i++) {
      const bad = Buffer.from(sample);
      for (let k = 0; k < 8; k++) bad[random.int(132, bad.length - 1)] = random.int(0, 255);
      try {
        deidentify(bad, context());
      } catch (e) {
        assert.ok(e instanceof DicomParseError, `corruption ${i}: ${String(e)}`);
      }
    }
  }));

  it('reads the source identity without de-identifying', () => {
    const id = readSourceIdentity(valid);
    assert.equal(id.patientId, 'MRN-1');
    assert.equal(id.studyInstanceUid, '1.2.826.0.1.3680043.99.2');
    assert.equal(id.sopInstanceUid, '1.2.826.0.1.3680043.99.1.1');
  });
});
