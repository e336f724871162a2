import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * MikroORM's schema diff reports spurious changes on both SQLite (enum checks) and MariaDB
 * (JSON checks), so drift is checked structurally: every column and index the entities declare
 * exists in the database the checked-in migrations built.
 */
describe('checked-in migrations', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  async function indexesOf(table: string): Promise<Set<string>> {
    const knex = (app.orm.em as EntityManager).getKnex();
    if (knex.client.dialect === 'sqlite3') {
      return new Set((await knex.raw(`pragma index_list(\`${table}\`)`) as any[]).map((r) => r.name));
    }
    const [rows] = await knex.raw(`show index from \`${table}\``);
    return new Set((rows as any[]).map((r) => r.Key_name));
  }

  it('create every table, column and index the entities declare', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const metadata = Object.values(app.orm.getMetadata().getAll()).filter((m) => !m.embeddable && !m.virtual && m.tableName);
    assert.ok(metadata.length >= 6);
    for (const meta of metadata) {
      const columns = await knex(meta.tableName).columnInfo();
      for (const prop of Object.values(meta.properties)) {
        for (const field of prop.fieldNames ?? []) {
          if (prop.persist === false || prop.kind === '1:m' || prop.kind === 'm:n') continue;
          assert.ok(field in columns, `${meta.tableName}.${field} (${meta.className}.${prop.name}) is missing: run npm run migration:create`);
        }
      }
      const indexes = await indexesOf(meta.tableName);
      const naming = app.orm.config.getNamingStrategy();
      for (const index of [...meta.indexes, ...meta.uniques]) {
        const props = ([] as string[]).concat(index.properties as any).map((p) => meta.properties[p as any]!.fieldNames[0]!);
        const name = typeof index.name === 'string' ? index.name : naming.indexName(meta.tableName, props, meta.uniques.includes(index as any) ? 'unique' : 'index');
        assert.ok(indexes.has(name), `index ${name} on ${meta.tableName} is missing: run npm run migration:create`);
      }
    }
    assert.deepEqual(await app.orm.getMigrator().getPendingMigrations(), []);
  });
});
