// Regression: QIDO-RS took any day 01-31 in any month as a date (StudyDate=20200231, 20210229,
// 20200431, 00000101) and answered 200 with nothing matched, so a client that mistyped a date
// was never told. A day the calendar does not have is now 400 BAD_USER_INPUT, alone or in a range.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseQido } from '../../src/dicomweb/query.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('QIDO-RS dates are days of the calendar', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002 }); });
  after(async () => { await app?.stop(); });

  it('a day the calendar does not have is 400, alone or at either end of a range', async () => {
    for (const v of ['20200231', '20210229', '20200431', '00000101', '20200230-20200301', '-20201131', '19000229-']) {
      const res = await fetch(`${app.url}/dicom-web/studies?StudyDate=${v}`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(res.status, 400, v);
      const body: any = await res.json();
      assert.equal(body.code, 'BAD_USER_INPUT');
      assert.match(body.error, /StudyDate must be a date YYYYMMDD/);
    }
  });

  it('real days, leap days and open ranges still match', async () => {
    for (const v of ['20200229', '20000229', '19991231', '19000101-21001231', '-20201130', '20240101-']) {
      const res = await fetch(`${app.url}/dicom-web/studies?StudyDate=${v}`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(res.status, 200, v);
    }
    assert.deepEqual(parseQido('study', { StudyDate: '20200229-20200301' }).conditions.map((c: any) => [c.from, c.to]), [['2020-02-29', '2020-03-01']]);
  });
});
