import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageYears, decimal, int, isoDate, personName, render, text } from '../../src/dicom';
import { noDatabase } from '../support/once.js';

noDatabase('reads DICOM values');

describe('DICOM value helpers (one set for every reader)', () => {
  it('text strips DICOM padding and reads the first of a multi-value or a person name', () => {
    assert.equal(text('CT\0'), 'CT');
    assert.equal(text(['ORIGINAL ', 'PRIMARY']), 'ORIGINAL');
    assert.equal(text([{ Alphabetic: 'Doe^Jane' }]), 'Doe^Jane');
    assert.equal(text(' '), null);
    assert.equal(text(new ArrayBuffer(4)), null);
    assert.equal(text(undefined), null);
  });

  it('int accepts IS and binary integers, refuses decimals and out-of-range values', () => {
    assert.equal(int(' 42 '), 42);
    assert.equal(int([512]), 512);
    assert.equal(int('-7'), -7);
    assert.equal(int('4.5'), null);
    assert.equal(int('99999999999'), null);
    assert.equal(int('abc'), null);
  });

  it('decimal reads DS values', () => {
    assert.equal(decimal('-1024.0 '), -1024);
    assert.equal(decimal('1e3'), 1000);
    assert.equal(decimal('n/a'), null);
  });

  it('isoDate reads DA (and the ACR-NEMA dotted form), refuses impossible dates', () => {
    assert.equal(isoDate('20240229'), '2024-02-29');
    assert.equal(isoDate('2024.02.29'), '2024-02-29');
    assert.equal(isoDate('20241301'), null);
    assert.equal(isoDate('2024'), null);
  });

  it('ageYears reads AS in whole years', () => {
    assert.equal(ageYears('045Y'), 45);
    assert.equal(ageYears('030M'), 2);
    assert.equal(ageYears('104W'), 2);
    assert.equal(ageYears('400D'), 1);
    assert.equal(ageYears('45Y'), null);
  });

  it('personName splits the alphabetic group into its components', () => {
    assert.deepEqual(personName([{ Alphabetic: 'Doe^Jane^Q^Dr^PhD=ドウ^ジェーン' }]), { family: 'Doe', given: 'Jane', middle: 'Q', prefix: 'Dr', suffix: 'PhD' });
    assert.deepEqual(personName('Anonymous'), { family: 'Anonymous', given: null, middle: null, prefix: null, suffix: null });
    assert.equal(personName(''), null);
  });

  it('render writes multi-values as DICOM does, binary by length, and cuts long text', () => {
    assert.equal(render(['1', '0', '0']), '1\\0\\0');
    assert.equal(render([new ArrayBuffer(8)]), '<8 bytes>');
    assert.equal(render('x'.repeat(10), 4), 'xxxx…');
  });
});
