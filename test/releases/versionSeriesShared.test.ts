// A version's series list is a GROUP BY over every manifest row of the version (about 220 ms at
// 100,000 images), and one anonymous query asked for it under 50 aliases: 50 scans, 7.9 s on
// SQLite and 14.2 s on MariaDB at 100,004 images. Versions never change once cut, so the list is
// read once, shared by the aliases in flight and kept for later requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('a version\'s series list is read once', () => {
  let app: TestApp;
  let open: StoredCollection;
  const groupBys: string[] = [];
  const listen = (query: { sql?: string }) => {
    const sql = query?.sql ?? '';
    if (/release_manifest_entry/.test(sql) && /group by/i.test(sql)) groupBys.push(sql);
  };
  const knex = () => (app.orm.em as unknown as EntityManager).getKnex();

  before(async () => {
    app = await startTestApp();
    const curator = await app.token('curator-1', Role.CURATOR);
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Series shared' }, { individuals: 1, studies: 2, series: 3, images: 2 });
    await app.gql(`mutation { releaseCollection(accession: "${open.accession}") { released } }`, {}, curator);
    knex().on('query', listen);
  });
  after(async () => {
    (app?.orm.em as unknown as EntityManager | undefined)?.getKnex().off('query', listen);
    await app?.stop();
  });

  it('50 aliases of one version\'s series are one read; a later request none', async () => {
    const query = `{ collection(accession: "${open.accession}") { ${Array.from({ length: 50 }, (_, i) => `a${i}: version(number: 1) { series { seriesInstanceUid studyAccession imageCount } }`).join(' ')} } }`;
    groupBys.length = 0;
    const res = await app.gql(query);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const lists = Object.values(res.data.collection).map((v: any) => v.series);
    assert.equal(lists.length, 50);
    assert.equal(lists[0].length, 6, 'two studies of three series');
    assert.ok(lists[0].every((s: any) => s.imageCount === 2));
    for (const l of lists) assert.deepEqual(l, lists[0]);
    // Before: 50 GROUP BY statements for this one query.
    assert.equal(groupBys.length, 1, `GROUP BY statements: ${groupBys.length}`);
    groupBys.length = 0;
    const again = await app.gql(query);
    assert.deepEqual(again.data, res.data);
    assert.equal(groupBys.length, 0);
  });
});
