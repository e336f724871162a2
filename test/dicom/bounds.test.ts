// What reading a file may cost is bounded by the file: the front door counts every data element
// dcmjs would read — nested ones, in defined-length sequences too — and refuses a file holding
// more than its size allows before dcmjs allocates anything; a deflated dataset may inflate only
// so far. Before, a 49 MB upload of 4.9 million tiny elements took 44 s and 3.8 GB of heap to
// parse, and the same elements inside a defined-length sequence were not counted at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deidentify, OBIA_DEFAULT_OPTIONS } from '../../src/deid';
import { DEFLATED_LE, DicomDatasetError, DicomParseError, readDicom } from '../../src/dicom';
import { elementBudget } from '../../src/dicom/framing';
import { readFacts } from '../../src/qc';
import { encodeRaw, rawPart10, tinyElements, type RawElement } from '../support/dicom.js';
import { noDatabase } from '../support/once.js';

noDatabase('reads crafted DICOM bytes');

const text = (tag: string, vr: string, s: string): RawElement => ({ tag, vr, value: Buffer.from(s, 'latin1') });

const identity = [text('00080016', 'UI', '1.2.840.10008.5.1.4.1.1.7'), text('00080018', 'UI', '1.2.3.4.99'), text('00100020', 'LO', 'BOUNDS-1')];

/** An item (FFFE,E000) of defined length holding `elements`. */
function definedItem(elements: RawElement[]): Buffer {
  const body = encodeRaw(elements);
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0); header.writeUInt16LE(0xe000, 2); header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** How the front door and the modules behind it answer: the framing's refusal, or what got through. */
function refusalOf(bytes: Buffer): string {
  try {
    readDicom(bytes);
    return 'read';
  } catch (e) {
    assert.ok(e instanceof DicomParseError && !(e instanceof DicomDatasetError), `refused by the framing, before dcmjs: ${e}`);
    return e.message;
  }
}

describe('reading a file costs what its size allows', () => {
  const bomb = elementBudget(3 * 1024 * 1024) + 1_000;

  it(`refuses a 3 MB file of ${bomb} ten-byte elements by their count, in deid and QC alike`, () => {
    const file = rawPart10([...identity, ...tinyElements(bomb)]);
    assert.ok(file.length < 3.1 * 1024 * 1024, `${file.length} bytes`);
    assert.match(refusalOf(file), /more than \d+ data elements/);
    assert.throws(() => deidentify(file, { secret: 'bounds-test-secret-0123456789abcdef', individualAccession: 'I000001', dateOffsetDays: 3, options: OBIA_DEFAULT_OPTIONS }), DicomParseError);
    assert.throws(() => readFacts(file), /data elements/);
  });

  it('counts the elements inside a defined-length sequence, which it used to skip', () => {
    // The same count spread over defined-length items of 60,000 elements each.
    const items: Buffer[] = [];
    for (let i = 0; i < bomb; i += 60_000) items.push(definedItem(tinyElements(Math.min(60_000, bomb - i))));
    const sequence: RawElement = { tag: '00081140', vr: 'SQ', value: Buffer.concat(items) };
    const file = rawPart10([...identity.slice(0, 2), sequence, identity[2]!]);
    assert.match(refusalOf(file), /more than \d+ data elements/);
  });

  it('checks what a defined-length sequence holds: an item that runs past its sequence is refused, a sound one reads', () => {
    const good = definedItem([text('00081150', 'UI', '1.2.840.10008.5.1.4.1.1.2'), text('00081155', 'UI', '1.2.3.4.5')]);
    const sound = rawPart10([...identity.slice(0, 2), { tag: '00081140', vr: 'SQ', value: good }, identity[2]!]);
    assert.equal(refusalOf(sound), 'read');
    assert.equal(readDicom(sound).message.dict['00081140']?.Value?.length, 1);
    // The item claims 8 bytes more than its sequence holds.
    const lying = Buffer.from(good);
    lying.writeUInt32LE(lying.readUInt32LE(4) + 8, 4);
    const broken = rawPart10([...identity.slice(0, 2), { tag: '00081140', vr: 'SQ', value: lying }, identity[2]!]);
    assert.match(refusalOf(broken), /truncated: an item of \(0008,1140\)/);
  });

  it('refuses a deflated dataset that inflates past 64 times its size, and reads an ordinary one', () => {
    const zeros: RawElement = { tag: '00091010', vr: 'OB', value: Buffer.alloc(80 * 1024 * 1024) };
    const file = rawPart10([...identity, zeros], DEFLATED_LE);
    assert.ok(file.length < 200 * 1024, `${file.length} bytes deflated`);
    assert.match(refusalOf(file), /inflates past/);
    const ordinary = rawPart10([...identity, { ...zeros, value: Buffer.alloc(1024 * 1024, 1) }], DEFLATED_LE);
    assert.equal(refusalOf(ordinary), 'read');
  });

  it('grows with the file: a base no ordinary header nears, one more element per KiB', () => {
    assert.equal(elementBudget(0), 200_000);
    assert.equal(elementBudget(1024 * 1024 * 1024), 200_000 + 1024 * 1024);
    assert.equal(elementBudget(1e12), 5_000_000);
  });
});
