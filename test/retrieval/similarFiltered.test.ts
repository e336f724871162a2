import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { hamming, hexToCode } from '../../src/retrieval/code.js';
import { startTestApp, type TestApp } from '../support/app.js';

const Q = `query($image: ImageQueryInput!, $k: Int, $filter: BrowseFilterInput) {
  similarImages(image: $image, k: $k, filter: $filter) { distance image { uid } } }`;

interface Row { uid: string; hash_code: string; modality: string; accession: string; release_state: string; accessibility: string }

/**
 * similarImages first checks the unfiltered nearest candidates against the filter and lists every
 * admissible series only when too few pass. Either way the answer must be the exact filtered
 * top k: compared here with a brute-force ranking over all codes, by (distance, id). The caller is
 * anonymous, so controlled collections' images are never ranked (a ranking shows what their pixels
 * look like), released or not.
 */
describe('similarImages with filters: the exact filtered top k, whether the nearest candidates suffice or not', () => {
  let app: TestApp;
  let rows: (Row & { id: number })[];
  before(async () => {
    app = await startTestApp({ seedScale: 0.005 });
    const knex = (app.orm.em as EntityManager).getKnex();
    rows = await knex('image as i').join('series as s', 's.id', 'i.series_id').join('collection as c', 'c.id', 's.collection_id')
      .whereNotNull('i.hash_code').orderBy('i.id').select('i.id', 'i.uid', 'i.hash_code', 's.modality', 'c.accession', 'c.release_state', 'c.accessibility');
    // One collection unreleased, so visibility removes some of every query's neighbours.
    await knex('collection').where('accession', 'OBIA0002').update({ release_state: ReleaseState.DRAFT });
    for (const r of rows) if (r.accession === 'OBIA0002') r.release_state = ReleaseState.DRAFT;
  });
  after(async () => { await app?.stop(); });

  const cases: [string, Record<string, unknown> | null, (r: Row) => boolean][] = [
    ['no filter (anonymous: released only)', null, () => true],
    ['a common modality', { modality: ['CT'] }, (r) => r.modality === 'CT'],
    ['one collection and a rare modality', { collection: ['OBIA0003'], modality: ['MR'] }, (r) => r.accession === 'OBIA0003' && r.modality === 'MR'],
    ['nothing admissible', { collection: ['OBIA0002'] }, () => false],
  ];
  for (const [name, filter, admits] of cases) {
    it(name, async () => {
      for (const query of [rows[3]!, rows[Math.floor(rows.length / 2)]!]) {
        const q = hexToCode(query.hash_code);
        const expected = rows.filter((r) => r.release_state === ReleaseState.RELEASED && r.accessibility === Accessibility.OPEN && admits(r) && r.uid !== query.uid)
          .map((r) => ({ id: r.id, uid: r.uid, distance: hamming(q, hexToCode(r.hash_code)) }))
          .sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, 40);
        const { data, errors } = await app.gql(Q, { image: { uid: query.uid }, k: 40, filter });
        if (query.release_state !== ReleaseState.RELEASED) {
          assert.equal(errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
          continue;
        }
        if (query.accessibility !== Accessibility.OPEN) {
          // A controlled image's code stands for its pixels: querying by it needs an approved request.
          assert.ok(errors?.length, 'a controlled image is not a query for an anonymous caller');
          continue;
        }
        assert.equal(errors, undefined);
        assert.deepEqual(data.similarImages.map((h: any) => [h.image.uid, h.distance]), expected.map((e) => [e.uid, e.distance]));
      }
    });
  }
});
