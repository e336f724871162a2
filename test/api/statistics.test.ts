import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';

const ROW = '{ key individuals studies series images }';

describe('statistics (the paper\'s Table 1, S1 and S2)', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.02 }); });
  after(async () => { await app?.stop(); });

  it('counts per collection, modality and site agree with the rows in the database', async () => {
    const { data } = await app.gql(`{ statistics { total ${ROW} byCollection ${ROW} byModality ${ROW} byAnatomicalSite ${ROW} } }`);
    const knex = (app.orm.em as EntityManager).getKnex();
    const count = async (table: string) => Number((await knex(table).count({ n: '*' }))[0]!.n);
    const s = data.statistics;
    assert.equal(s.total.individuals, await count('individual'));
    assert.equal(s.total.studies, await count('study'));
    assert.equal(s.total.series, await count('series'));
    assert.equal(s.total.images, await count('image'));
    for (const table of ['byCollection', 'byModality', 'byAnatomicalSite']) {
      assert.equal(s[table].reduce((a: number, r: any) => a + r.series, 0), s.total.series, table);
      assert.equal(s[table].reduce((a: number, r: any) => a + r.images, 0), s.total.images, table);
    }
    assert.deepEqual(s.byCollection.map((r: any) => r.key), ['OBIA0001', 'OBIA0002', 'OBIA0003', 'OBIA0004']);
    const mrImages = Number((await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.modality', 'MR').count({ n: '*' }))[0]!.n);
    assert.equal(s.byModality.find((r: any) => r.key === 'MR').images, mrImages);
  });

  it('honours the browse filters', async () => {
    const { data } = await app.gql(`{ statistics(filter: { modality: ["CT"], collection: ["OBIA0002"] }) { total ${ROW} byCollection ${ROW} byModality ${ROW} } }`);
    assert.deepEqual(data.statistics.byCollection.map((r: any) => r.key), ['OBIA0002']);
    assert.deepEqual(data.statistics.byModality.map((r: any) => r.key), ['CT']);
    const list = await app.gql(`{ seriesList(filter: { modality: ["CT"], collection: ["OBIA0002"] }) { totalCount } }`);
    assert.equal(data.statistics.total.series, list.data.seriesList.totalCount);
  });
});
