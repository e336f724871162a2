import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';

describe('query depth and complexity limits', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('refuses an over-deep query before it touches the database', async () => {
    // study → series → study → … twenty levels down.
    const deep = `{ study(accession: "S00000001") ${'{ series { study '.repeat(10)}{ accession }${' } }'.repeat(10)} }`;
    let res: any;
    const statements = await app.countQueries(async () => { res = await app.gql(deep); });
    assert.equal(res.errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
    assert.match(res.errors[0].message, /depth \d+ exceeds the limit of \d+/);
    assert.equal(statements, 0);
  });

  it('refuses an over-complex query before it touches the database', async () => {
    const wide = `{ collections(first: 500) { edges { node { individuals(first: 500) { edges { node { studies { series { images(first: 500) { edges { node { uid } } } } } } } } } } } }`;
    let res: any;
    const statements = await app.countQueries(async () => { res = await app.gql(wide); });
    assert.equal(res.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(res.status, 400);
    assert.equal(statements, 0);
  });

  it('still serves a reasonable nested page', async () => {
    const res = await app.gql(`{ collections(first: 20) { edges { node { individuals(first: 50) { edges { node { studies { series { imageCount } } } } } } } } }`);
    assert.equal(res.errors, undefined);
  });
});
