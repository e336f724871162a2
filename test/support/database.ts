import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';

export const TEST_DB = process.env.OBIA_TEST_DB === 'mysql' ? 'mysql' : 'sqlite';
export const MYSQL_URL = process.env.OBIA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface TestDatabase { databaseUrl: string | null; dataDir: string; drop: () => Promise<void> }

/**
 * A database of its own for one test file: a temporary SQLite file, or a fresh MariaDB
 * schema named uniquely so test files can run concurrently.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-'));
  if (TEST_DB === 'sqlite') {
    return { databaseUrl: null, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `obia_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection(MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  return {
    databaseUrl: new URL(name, MYSQL_URL).toString(),
    dataDir,
    drop: async () => {
      const c = await mysql.createConnection(MYSQL_URL);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
