// Moving an archive's catalogue to another database (src/db/copy.ts, `npm run db:copy`): an
// embedded SQLite archive copied into this pass's database (MariaDB in the MariaDB pass) holds the
// same rows, serves the same answers, goes on numbering after them, and a copy into a database
// that already holds an archive is refused before it writes anything.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { copyDatabase, DatabaseCopyError } from '../../src/db/copy.js';
import { openDatabase } from '../../src/db/orm.js';
import { seedArchive } from '../../seeds/seed.js';
import { appConfig, startTestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const knexOf = (orm: MikroORM): Knex => (orm.em as EntityManager).getKnex();

/**
 * A row as both dialects agree on it, by the target column's type: datetimes as whole seconds
 * (MariaDB's DATETIME keeps no fraction; SQLite keeps MikroORM's milliseconds), JSON parsed,
 * big integers as numbers.
 */
function normal(row: Record<string, unknown>, types: Record<string, { type: string }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => {
    const type = types[k]!.type.toLowerCase();
    if (v === null) return [k, v];
    if (/date|time/.test(type)) { const ms = v instanceof Date ? v.getTime() : Number(v); return [k, ms - (ms % 1000)]; }
    // MariaDB's JSON is LONGTEXT with a check: its column reads as text.
    if (type === 'json' || (typeof v === 'string' && /text/.test(type) && /^[[{]/.test(v))) return [k, typeof v === 'string' ? JSON.parse(v) : v];
    if (/int/.test(type)) return [k, Number(v)];
    return [k, v];
  }));
}

/** Every table of `b` holds the rows of `a`, row for row, compared as both dialects agree on them (normal). */
async function assertSameRows(a: MikroORM, b: MikroORM, byTable: Record<string, number>): Promise<void> {
  for (const [table, rows] of Object.entries(byTable)) {
    const types = await knexOf(a)(table).columnInfo() as unknown as Record<string, { type: string }>;
    const read = async (orm: MikroORM) => (await knexOf(orm)(table).select('*').orderByRaw('1')).map((r: Record<string, unknown>) => normal(r, types));
    const [inA, inB] = [await read(a), await read(b)];
    assert.equal(inA.length, rows, table);
    // Row by row: one assertion over the whole table would print a diff of thousands of rows.
    inB.forEach((r, i) => assert.deepEqual(inA[i], r, `row ${i + 1} of ${table}`));
  }
}

describe('copying an archive\'s catalogue into another database', () => {
  const sourceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-copy-source-'));
  let source: MikroORM;
  let target: TestDatabase;
  let copied: MikroORM;

  before(async () => {
    source = await openDatabase(loadConfig({}, { databaseUrl: null, dataDir: sourceDir }));
    await seedArchive(source, { scale: 0.001, seed: 'db-copy' });
    target = await createTestDatabase({ migrated: true });
    copied = await openDatabase(loadConfig({}, appConfig(target)));
  });
  after(async () => {
    await source?.close(true);
    await copied?.close(true);
    await target?.drop();
    fs.rmSync(sourceDir, { recursive: true, force: true });
  });

  it('copies every row of every table, ids and values kept', async () => {
    const report = await copyDatabase(source, copied);
    assert.ok(report.byTable.image! > 0 && report.byTable.collection! > 0, JSON.stringify(report.byTable));
    await assertSameRows(copied, source, report.byTable);
  });

  it('is an archive the hub serves, numbering new rows after the copied ones', async () => {
    const app = await startTestApp({ db: target });
    try {
      const res: any = await app.gql('{ collections(first: 100) { totalCount } }', {}, await app.token('copy-admin', Role.ADMIN));
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [{ n }] = await knexOf(source)('collection').count({ n: '*' }) as [{ n: number }];
      assert.equal(res.data.collections.totalCount, Number(n));
      const knex = knexOf(app.orm);
      const [{ max }] = await knex('audit_event').max({ max: 'id' }) as [{ max: number | null }];
      const [id] = await knex('audit_event').insert({ at: knex.fn.now(), action: 'copy-check', resource: 'test', decision: 'ALLOW', reason: 'a row after the copy', attempts: 1 });
      assert.ok(Number(id) > Number(max ?? 0), `a new row's id ${id} follows the copied ones (${max})`);
    } finally {
      await app.stop();
    }
  });

  it('copies back out of this database into a new embedded archive, the same rows again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-copy-back-'));
    const back = await openDatabase(loadConfig({}, { databaseUrl: null, dataDir: dir }));
    try {
      await assertSameRows(back, copied, (await copyDatabase(copied, back)).byTable);
    } finally {
      await back.close(true);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database that already holds an archive, and writes nothing to it', async () => {
    const [{ n: before }] = await knexOf(copied)('image').count({ n: '*' }) as [{ n: number }];
    await assert.rejects(copyDatabase(source, copied), (e: unknown) => e instanceof DatabaseCopyError && /already holds rows/.test((e as Error).message));
    const [{ n: afterwards }] = await knexOf(copied)('image').count({ n: '*' }) as [{ n: number }];
    assert.equal(Number(afterwards), Number(before));
  });
});
