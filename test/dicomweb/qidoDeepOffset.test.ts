// Regression: QIDO-RS took any offset up to 1,000,000,000, and a database reaches an offset by
// reading every row before it: /instances?offset=999999999 read every visible image to answer
// nothing (627 ms on SQLite at 194,000 images, about 1.8 s on MariaDB at 1.94 M, for anyone). The
// offset is now bounded (OBIA_QIDO_MAX_OFFSET, 100,000 by default); deeper is a 400 with a
// reason, answered before any statement is sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { MAX_OFFSET, parseQido } from '../../src/dicomweb/query.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('a QIDO-RS offset deeper than the bound is refused before the database reads', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002, config: { dicomweb: { baseUrl: null, corsOrigins: [], maxOffset: 4 } } }); });
  after(async () => { await app?.stop(); });

  async function qido(path: string): Promise<{ status: number; body: any; statements: number }> {
    let res!: Response;
    const statements = await app.countQueries(async () => { res = await fetch(`${app.url}/dicom-web${path}`, { headers: { accept: 'application/dicom+json' } }); });
    return { status: res.status, body: await res.json(), statements };
  }

  it('at every level: up to the bound answers, past it is 400 BAD_USER_INPUT with no statement sent', async () => {
    for (const level of ['studies', 'series', 'instances']) {
      const all = await qido(`/${level}?limit=6`);
      assert.equal(all.status, 200);
      const deepest = await qido(`/${level}?limit=2&offset=4`);
      assert.equal(deepest.status, 200, `${level} at the bound`);
      assert.deepEqual(deepest.body, all.body.slice(4, 6), 'the page at the bound is the page it always was');
      for (const offset of ['5', '999999999']) {
        const refused = await qido(`/${level}?offset=${offset}`);
        assert.equal(refused.status, 400, `${level}?offset=${offset}`);
        assert.equal(refused.body.code, 'BAD_USER_INPUT');
        assert.match(refused.body.error, /offset must be an integer in 0\.\.4; narrow the query/);
        assert.equal(refused.statements, 0, 'nothing was read for a refused offset');
      }
    }
    const nested = await qido('/studies/1.2.3/series?offset=5');
    assert.equal(nested.status, 400);
  });

  it('the bound is 100,000 unless OBIA_QIDO_MAX_OFFSET says otherwise', () => {
    assert.equal(MAX_OFFSET, 100_000);
    assert.equal(parseQido('instance', { offset: '100000' }).offset, 100_000);
    assert.throws(() => parseQido('instance', { offset: '100001' }), /offset must be an integer in 0\.\.100000/);
    assert.equal(loadConfig({ OBIA_QIDO_MAX_OFFSET: '2500' }).dicomweb.maxOffset, 2500);
    assert.equal(loadConfig({}).dicomweb.maxOffset, undefined);
  });
});
