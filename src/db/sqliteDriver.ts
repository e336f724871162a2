// The embedded database's MikroORM driver: better-sqlite3's, with string literals that keep a NUL.
//
// MikroORM 6 sends every statement with its parameters written into the SQL text
// (AbstractSqlConnection.execute → Platform.formatQuery), and the SQLite escape it uses
// (sqlstring-sqlite) leaves a NUL inside the quotes. SQLite's parser ends the statement's text at
// the NUL, so any value holding one — a DICOM description, a title sent as JSON — failed the whole
// statement ("unrecognized token"), and with it every ingest run of the submission that carried the
// file. MariaDB's escape writes \0 and was never affected. Here a NUL becomes char(0), concatenated
// into the literal ('a' || char(0) || 'b'): `||` binds tighter than every other operator, so the
// expression stands wherever the literal stood, and the stored value is the string as given.
import { BetterSqliteConnection, BetterSqlitePlatform } from '@mikro-orm/better-sqlite';
import type { Configuration } from '@mikro-orm/core';
import { AbstractSqlDriver } from '@mikro-orm/knex';

export class SqlitePlatform extends BetterSqlitePlatform {
  override escape(value: unknown): string {
    const sql = super.escape(value);
    // The escape quotes every string it writes, so a NUL in its output is always inside a literal.
    return sql.includes('\0') ? sql.replaceAll('\0', "' || char(0) || '") : sql;
  }
}

export class SqliteDriver extends AbstractSqlDriver<BetterSqliteConnection> {
  constructor(config: Configuration) {
    super(config, new SqlitePlatform(), BetterSqliteConnection, ['knex', 'better-sqlite3']);
  }
}
