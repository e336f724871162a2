import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';

export const TEST_DB = process.env.OBIA_TEST_DB === 'mysql' ? 'mysql' : 'sqlite';
export const MYSQL_URL = process.env.OBIA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
/**
 * A MariaDB schema migrated once per `npm test` run (test/run.mjs makes it with makeMysqlTemplate
 * and drops it at the end). Migrating a fresh MariaDB schema is ~100 DDL statements, 5–11 s of wall
 * time per app on a busy machine (each ALTER rebuilds a table and syncs to disk) for 0.4 CPU-s;
 * creating the finished tables from the template is one CREATE TABLE per table.
 */
export const MYSQL_TEMPLATE = process.env.OBIA_TEST_MYSQL_TEMPLATE || null;

export interface TestDatabase { databaseUrl: string | null; dataDir: string; drop: () => Promise<void> }

/**
 * A database of its own for one test file: a temporary SQLite file, or a fresh MariaDB
 * schema named uniquely so test files can run concurrently. `migrated: true` (startTestApp's own
 * databases) may start from the run's migrated template instead of empty; the app's migrator then
 * finds nothing pending. Tests that hand a database to a CLI or test migrations get an empty one.
 * `copyOf` starts from a copy of another (closed) test database: its tables and rows, and its data
 * folder (the SQLite file, keys, both blob roots), as test/support/seededArchive.ts shares one
 * seeded archive.
 */
export async function createTestDatabase(opts: { migrated?: boolean; copyOf?: TestDatabase } = {}): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-'));
  if (opts.copyOf) fs.cpSync(opts.copyOf.dataDir, dataDir, { recursive: true });
  if (TEST_DB === 'sqlite') {
    // No template for SQLite: migrating an empty file costs 50–180 CPU-ms, about what copying costs.
    return { databaseUrl: null, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `obia_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    const from = opts.copyOf ? new URL(opts.copyOf.databaseUrl!).pathname.slice(1) : opts.migrated ? MYSQL_TEMPLATE : null;
    if (from) await cloneSchema(admin, from, name);
  } finally {
    await admin.end();
  }
  const databaseUrl = new URL(name, MYSQL_URL).toString();
  return { databaseUrl, dataDir, drop: () => dropTestDatabase({ databaseUrl, dataDir }) };
}

/**
 * Removes a test database: its MariaDB schema (named by its URL; none for SQLite) and its data
 * folder. test/run.mjs drops the pass's seeded archive with it, after the seeding process has ended.
 */
export async function dropTestDatabase(db: { databaseUrl: string | null; dataDir: string }): Promise<void> {
  if (db.databaseUrl) {
    const url = new URL(db.databaseUrl);
    const name = url.pathname.slice(1);
    const c = await mysql.createConnection(new URL('/', url).toString());
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  }
  fs.rmSync(db.dataDir, { recursive: true, force: true });
}

/**
 * Copies every table of `from` into the empty schema `to`: the template's own CREATE TABLE text
 * (columns, indexes, foreign keys, AUTO_INCREMENT position) and its rows (the migrations table, the
 * accession counters a migration inserts). Foreign keys are off while tables appear in any order.
 */
const templateTables = new Map<string, Promise<string[]>>();
async function cloneSchema(c: mysql.Connection, from: string, to: string): Promise<void> {
  if (!templateTables.has(from)) templateTables.set(from, templateDdl(c, from));
  const ddl = await templateTables.get(from)!;
  const statements = ['SET FOREIGN_KEY_CHECKS = 0', ...ddl.map((s) => s.replaceAll('\u0000', to)), 'SET FOREIGN_KEY_CHECKS = 1'];
  await c.query(statements.join(';\n'));
}

/** The template's statements once per process, with U+0000 standing for the new schema's name. */
async function templateDdl(c: mysql.Connection, from: string): Promise<string[]> {
  const [tables] = await c.query<any[]>(`SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [from]);
  // A view or anything else the copy does not understand: refuse rather than give a schema that differs.
  const other = tables.filter((t) => t.type !== 'BASE TABLE');
  if (other.length) throw new Error(`template ${from} holds ${other.map((t) => `${t.name} (${t.type})`).join(', ')}: cloneSchema copies base tables only`);
  const statements: string[] = [];
  for (const { name } of tables) {
    const [[row]] = await c.query<any[]>(`SHOW CREATE TABLE \`${from}\`.\`${name}\``);
    statements.push(`CREATE TABLE \`\u0000\`.${row['Create Table'].replace(/^CREATE TABLE /, '')}`);
    // Every table's rows (InnoDB's TABLE_ROWS is only an estimate); empty ones cost nothing.
    statements.push(`INSERT INTO \`\u0000\`.\`${name}\` SELECT * FROM \`${from}\`.\`${name}\``);
  }
  return statements;
}
