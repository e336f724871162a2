import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';

const NESTED = `{ collections(first: 20) { edges { node { individuals(first: 50) { edges { node { studies { series { imageCount } } } } } } } } }`;

describe('per-request DataLoaders', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('answers a nested browse in the same number of SQL statements for 20 and for 200 collections of data', async () => {
    const em = app.orm.em as EntityManager;
    const shape = { individuals: 3, studies: 2, series: 2, images: 1 };
    for (let i = 0; i < 20; i++) await makeCollection(em, {}, shape);
    let result: any;
    const small = await app.countQueries(async () => { result = await app.gql(NESTED); });
    assert.equal(result.errors, undefined);
    assert.equal(result.data.collections.edges.length, 20);
    assert.equal(result.data.collections.edges[0].node.individuals.edges.length, 3);

    for (let i = 0; i < 180; i++) await makeCollection(em, {}, { ...shape, individuals: 4 });
    const large = await app.countQueries(async () => { result = await app.gql(NESTED); });
    assert.equal(result.data.collections.edges.length, 20);
    assert.equal(large, small, `statements: ${small} for 20 collections, ${large} for 200`);
    assert.ok(small <= 6, `a nested page costs a handful of statements, not one per row (got ${small})`);
  });
});
