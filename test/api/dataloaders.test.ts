import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollections } from '../support/kit.js';

const NESTED = `{ collections(first: 20) { edges { node { individuals(first: 50) { edges { node { studies { series { imageCount } } } } } } } } }`;

describe('per-request DataLoaders', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('answers a nested browse in the same number of SQL statements for 20 and for 200 collections of data', async () => {
    const em = app.orm.em as EntityManager;
    const shape = { individuals: 3, studies: 2, series: 2, images: 1 };
    await makeCollections(em, 20, {}, shape);
    let result: any;
    const small = await app.countQueries(async () => { result = await app.gql(NESTED); });
    assert.equal(result.errors, undefined);
    assert.equal(result.data.collections.edges.length, 20);
    assert.equal(result.data.collections.edges[0].node.individuals.edges.length, 3);

    await makeCollections(em, 180, {}, { ...shape, individuals: 4 });
    const large = await app.countQueries(async () => { result = await app.gql(NESTED); });
    assert.equal(result.data.collections.edges.length, 20);
    assert.equal(large, small, `statements: ${small} for 20 collections, ${large} for 200`);
    assert.ok(small <= 6, `a nested page costs a handful of statements, not one per row (got ${small})`);
  });
});
