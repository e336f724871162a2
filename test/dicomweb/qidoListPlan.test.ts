// Regression: on MariaDB the bare instance list (`GET /dicom-web/instances`, anonymous, no
// arguments) sorted every visible image in a temporary table before answering one page: 340-630
// ms at 194,000 images for limit=1, seconds at the paper's 1.94 M. An unscoped list is now read
// in the driving table's id order and stops at the limit (20 ms at the same size).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';

describe('unscoped QIDO lists read their table in id order, without sorting every row', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.02 }); });
  after(async () => { await app?.stop(); });

  /** The plan of each statement a QIDO request sends, as lines: MariaDB's EXPLAIN rows, SQLite's query plan. */
  async function plans(path: string): Promise<string[][]> {
    const knex = (app.orm.em as any).getKnex();
    const sent: { sql: string; bindings: unknown[] }[] = [];
    const listener = (q: { sql: string; bindings: unknown[] }) => { if (/^select/i.test(q.sql)) sent.push(q); };
    knex.on('query', listener);
    try {
      const res = await fetch(`${app.url}/dicom-web${path}`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(res.status, 200, path);
      assert.ok(((await res.json()) as unknown[]).length > 0, `${path} answers something`);
    } finally {
      knex.removeListener('query', listener);
    }
    assert.ok(sent.length > 0);
    const sqlite = knex.client.dialect === 'sqlite3';
    return Promise.all(sent.map(async ({ sql, bindings }) => {
      const rows = await knex.raw(`explain ${sqlite ? 'query plan ' : ''}${sql}`, bindings);
      return (sqlite ? rows : rows[0]).map((r: any) => (sqlite ? r.detail : `${r.table} ${r.type} ${r.key} ${r.Extra}`));
    }));
  }

  for (const path of ['/instances?limit=1', '/instances?limit=5&offset=3', '/instances?limit=2&InstanceNumber=1', '/series?limit=1', '/studies?limit=1']) {
    it(`${path}: no temporary table, no sort`, async () => {
      for (const plan of await plans(path)) {
        assert.ok(!plan.some((line) => /filesort|temporary|TEMP B-TREE/i.test(line)), `${path}:\n${plan.join('\n')}`);
      }
    });
  }
});
