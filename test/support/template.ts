// test/run.mjs makes one migrated MariaDB schema per run; test apps start from copies of it
// (createTestDatabase({ migrated: true })) instead of migrating their own.
import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/orm.js';
import { MYSQL_URL } from './database.js';

/** Makes and migrates the run's template schema with the app's own migrator; returns its name and a drop. */
export async function makeMysqlTemplate(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `obia_test_template_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-test-template-'));
  const admin = await mysql.createConnection(MYSQL_URL);
  const drop = async () => {
    const c = await mysql.createConnection(MYSQL_URL);
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    const orm = await openDatabase({ databaseUrl: new URL(name, MYSQL_URL).toString(), dataDir } as Config);
    await orm.close(true);
  } catch (e) {
    await drop();
    throw e;
  } finally {
    await admin.end();
  }
  return { name, drop };
}
