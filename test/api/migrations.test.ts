import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { ValueTooLongError } from '../../src/db/columnBounds.js';
import { Submission, User } from '../../src/entities/index.js';
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

  it('refuse a string longer than its column on every write path, before a statement is sent, alike on both databases', async () => {
    const em = app.orm.em.fork() as EntityManager;
    let writes = 0;
    const knex = em.getKnex();
    // A flush still opens and rolls back its transaction; no insert or update may be sent.
    const count = (q: { sql: string }) => { if (/^\s*(insert|update)\b/i.test(q.sql)) writes++; };
    knex.on('query', count);
    try {
      const long = 'x'.repeat(501); // Submission.title holds 500
      const refused = (e: unknown) => e instanceof ValueTooLongError && e.property === 'title';
      // The unit of work, a bulk insert and a native update: the three ways the archive writes rows.
      em.create(User, { sub: 'column-check', roles: [], name: 'n'.repeat(301), firstSeen: new Date(), lastSeen: new Date() });
      await assert.rejects(em.flush(), (e: unknown) => e instanceof ValueTooLongError && e.property === 'name');
      await assert.rejects(em.fork().insertMany(Submission, [{ title: long } as any]), refused);
      await assert.rejects(em.fork().nativeUpdate(Submission, { id: 0 }, { title: long }), refused);
      assert.equal(writes, 0, 'no write reached the database');
    } finally {
      knex.removeListener('query', count);
    }
  });
});
