import { MikroORM, type Options } from '@mikro-orm/core';
import { MySqlDriver } from '@mikro-orm/mysql';
import { Migrator } from '@mikro-orm/migrations';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ENTITIES } from '../entities/index.js';
import { mysqlMigrations } from '../migrations/mysql/index.js';
import { sqliteMigrations } from '../migrations/sqlite/index.js';
import { checkingColumns } from './columnBounds.js';
import { SqliteDriver } from './sqliteDriver.js';

export type Dialect = 'mysql' | 'sqlite';

export function dialectOf(config: Pick<Config, 'databaseUrl'>): Dialect {
  return config.databaseUrl && /^(mysql|mariadb):\/\//.test(config.databaseUrl) ? 'mysql' : 'sqlite';
}

export function ormOptions(config: Config): Options {
  const dialect = dialectOf(config);
  const common: Options = {
    entities: ENTITIES,
    // Decorator metadata from tsc is enough; ts-morph discovery would slow every start.
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    debug: config.logQueries,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    extensions: [Migrator],
    migrations: {
      migrationsList: dialect === 'mysql' ? mysqlMigrations : sqliteMigrations,
      // MySQL commits implicitly around DDL, so a migration transaction there would only pretend.
      transactional: dialect === 'sqlite',
      allOrNothing: dialect === 'sqlite',
      snapshot: false,
      silent: true,
    },
  };
  if (dialect === 'mysql') {
    const url = new URL(config.databaseUrl!.replace(/^mariadb:/, 'mysql:'));
    return {
      ...common,
      // Strings that do not fit their columns are refused alike on both databases (src/db/columnBounds.ts).
      driver: checkingColumns(MySqlDriver),
      clientUrl: url.toString(),
      // MikroORM sends reads outside transactions to a replica (preferReadReplicas), the rest to the primary.
      replicas: (config.databaseReplicas ?? []).map((r, i) => ({ name: `replica-${i + 1}`, clientUrl: new URL(r.replace(/^mariadb:/, 'mysql:')).toString() })),
      pool: { min: 1, max: 10 },
      // multipleStatements lets a migration file hold one script per dialect.
      driverOptions: { connection: { multipleStatements: true } },
    };
  }
  const file = config.databaseUrl && config.databaseUrl.startsWith('sqlite:')
    ? config.databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '')
    : path.join(config.dataDir, 'obia.sqlite');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return {
    ...common,
    driver: checkingColumns(SqliteDriver),
    dbName: file,
    pool: { afterCreate: (conn: any, done: any) => { conn.pragma?.('journal_mode = WAL'); conn.pragma?.('foreign_keys = ON'); done(null, conn); } } as any,
  };
}

/** Connects and brings the schema up to date with the checked-in migrations. */
export async function openDatabase(config: Config): Promise<MikroORM> {
  const orm = await MikroORM.init(ormOptions(config));
  await orm.getMigrator().up();
  return orm;
}
