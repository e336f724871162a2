// The one structured logger (src/log.ts): whatever a call site hands it, no attribute value gets
// into a line, and a child logger names its submission and file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger, tapLog } from '../../src/log.js';
import { noDatabase } from '../support/once.js';

noDatabase("the structured logger's output");

function captured(fn: () => void): string {
  const lines: string[] = [];
  const untap = tapLog((l) => lines.push(l));
  try { fn(); } finally { untap(); }
  return lines.join('');
}

describe('the structured log', () => {
  it('redacts attribute-bearing fields and reduces database errors to their class', () => {
    const driverError = Object.assign(new Error("insert into `individual` values ('MARK-NAME', 'MARK-ID')"), { sqlState: '23000', sql: 'insert … MARK-ID' });
    const out = captured(() => {
      const file = logger.child({ submission: 7 }).child({ file: 42 });
      file.warn({ err: driverError, dict: { '00100010': { Value: ['MARK-NAME'] } }, value: 'MARK-VALUE', header: 'MARK-HEADER', patientId: 'MARK-ID' }, 'could not store');
    });
    assert.match(out, /"submission":7/);
    assert.match(out, /"file":42/);
    assert.doesNotMatch(out, /MARK-/, out);
  });

  it('keeps the message of the errors the archive writes (they name tags, never values)', () => {
    const out = captured(() => logger.error({ err: new RangeError('Rows is zero') }, 'bad image'));
    assert.match(out, /"type":"RangeError"/);
    assert.match(out, /Rows is zero/);
  });
});
