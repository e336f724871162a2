import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';

const VAL = path.resolve(process.cwd(), '../shared/retrieval/val');
const Q = `query($b: String!, $k: Int) { similarImages(image: { base64: $b }, k: $k) { distance image { uid
  series { uid modality study { accession individual { accession } } individual { accession } collection { accession } } } } }`;

/**
 * similarImages reads the candidates' admissibility, their series, study, individual and
 * collection in one statement, and builds each shared parent once (src/similarity/lineage.ts).
 * What a result shows must still be the database's lineage of each image, and the request must
 * not fall back to the loaders' statements (they were four dependent round trips a query).
 */
describe('similarImages: one statement per query, and the lineage it shows is the database\'s', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.005 }); });
  after(async () => { await app?.stop(); });

  it('answers from one statement with each image\'s own series, study, individual and collection', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const queries = fs.readdirSync(VAL).sort().map((cls) => fs.readFileSync(path.join(VAL, cls, fs.readdirSync(path.join(VAL, cls)).sort()[0]!)));
    for (const bytes of queries) {
      const statements: string[] = [];
      const count = (q: { sql: string }) => statements.push(q.sql);
      knex.on('query', count);
      let res;
      try {
        res = await app.gql(Q, { b: bytes.toString('base64'), k: 25 });
      } finally {
        knex.removeListener('query', count);
      }
      assert.equal(res.errors, undefined);
      const hits = res.data.similarImages;
      assert.equal(hits.length, 25);
      assert.equal(statements.length, 1, statements.join('\n'));

      const rows: any[] = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id')
        .join('individual as si', 'si.id', 'st.individual_id').join('individual as i', 'i.id', 's.individual_id').join('collection as c', 'c.id', 's.collection_id')
        .whereIn('im.uid', hits.map((h: any) => h.image.uid))
        .select('im.uid', 's.uid as series', 's.modality', 'st.accession as study', 'si.accession as studyIndividual', 'i.accession as individual', 'c.accession as collection');
      const byUid = new Map(rows.map((r) => [r.uid, r]));
      for (const h of hits) {
        const r = byUid.get(h.image.uid);
        const s = h.image.series;
        assert.deepEqual(
          [s.uid, s.modality, s.study.accession, s.study.individual.accession, s.individual.accession, s.collection.accession],
          [r.series, r.modality, r.study, r.studyIndividual, r.individual, r.collection],
        );
      }
    }
  });
});
