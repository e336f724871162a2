import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { allocateAccession, allocateAccessionNumbers, formatAccession } from '../../src/accessions.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('accession allocation', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('gives 50 concurrent allocations 50 distinct accessions in every format', async () => {
    for (const [kind, pattern] of [['collection', /^OBIA\d{4}$/], ['individual', /^I\d{6}$/], ['study', /^S\d{8}$/]] as const) {
      // Each allocation on its own EntityManager fork, as concurrent requests would have.
      const got = await Promise.all(Array.from({ length: 50 }, () => allocateAccession((app.orm.em as EntityManager).fork(), kind)));
      assert.equal(new Set(got).size, 50, `${kind}: ${got.join(',')}`);
      for (const a of got) assert.match(a, pattern);
    }
  });

  it('never hands out a number twice, even after ranges are reserved in bulk', async () => {
    const em = (app.orm.em as EntityManager).fork();
    const first = await allocateAccessionNumbers(em, 'study', 100);
    const next = await allocateAccessionNumbers(em, 'study', 1);
    assert.equal(next, first + 100);
  });

  it('formats accessions with fixed width and refuses to overflow', () => {
    assert.equal(formatAccession('collection', 7), 'OBIA0007');
    assert.equal(formatAccession('individual', 42), 'I000042');
    assert.equal(formatAccession('study', 3), 'S00000003');
    assert.throws(() => formatAccession('collection', 10000), /exhausted/);
  });
});
