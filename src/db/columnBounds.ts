// Every string the archive writes fits its column, on both databases, or is refused with a typed
// error before the statement is sent.
//
// MariaDB (strict mode) refuses a value longer than its VARCHAR or TEXT column with a driver error;
// SQLite stores it. So the same input was kept on the embedded archive and failed on MariaDB — as an
// INTERNAL_SERVER_ERROR for a clinical record's 300-character pathological type, and, for a DICOM file
// whose SOP Class UID ran to 146 characters, as a failure of the whole ingest run (a database error
// ends a run, so every later run of that submission failed the same way). The entities' own
// declarations (`length`, `type: 'text'`) are the bounds, read from MikroORM's metadata, and the
// check sits in the driver (checkingColumns), where every write arrives: a unit-of-work flush, and
// the bulk inserts and updates that bypass the unit of work alike.
import {
  Utils, type EntityDictionary, type EntityMetadata, type EntityProperty, type FilterQuery, type NativeInsertUpdateManyOptions,
  type NativeInsertUpdateOptions, type QueryResult, type UpsertManyOptions, type UpsertOptions,
} from '@mikro-orm/core';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import { BadUserInputError } from '../errors.js';

/** MariaDB's TEXT holds 65,535 bytes (of UTF-8); MEDIUMTEXT and longer are left to the body limits. */
const TEXT_BYTES = 65_535;

/** A value longer than its column: BAD_USER_INPUT naming the property, never echoing the value. */
export class ValueTooLongError extends BadUserInputError {
  constructor(readonly entity: string, readonly property: string, readonly max: string) {
    super(`"${property}" is longer than its ${entity} field holds (${max}).`, property);
  }
}

function bound(prop: EntityProperty): { chars?: number; bytes?: number } | null {
  if (typeof prop.length === 'number' && prop.length > 0) return { chars: prop.length };
  const column = String(prop.columnTypes?.[0] ?? prop.type ?? '').toLowerCase();
  return column === 'text' ? { bytes: TEXT_BYTES } : null;
}

/** Throws ValueTooLongError when a string of `row` exceeds its column in `meta`'s entity. */
export function assertFits(meta: EntityMetadata, row: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value !== 'string') continue;
    const prop = meta.properties[key as keyof typeof meta.properties] as EntityProperty | undefined;
    const b = prop && bound(prop);
    if (!b) continue;
    // A JS length counts UTF-16 units, MariaDB's VARCHAR code points: checked this way, a value that
    // passes fits both.
    if (b.chars !== undefined && value.length > b.chars) throw new ValueTooLongError(meta.className, key, `${b.chars} characters`);
    if (b.bytes !== undefined && value.length * 3 > b.bytes && Buffer.byteLength(value) > b.bytes) {
      throw new ValueTooLongError(meta.className, key, `${b.bytes} bytes`);
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SqlDriverClass = new (...args: any[]) => AbstractSqlDriver<any>;
type Options<E extends object> = NativeInsertUpdateOptions<E>;
type ManyOptions<E extends object> = NativeInsertUpdateManyOptions<E>;

/**
 * The driver with every row it is given to insert or update checked against its entity's columns
 * first. MikroORM hands the driver rows keyed by property name, from the unit of work
 * (ChangeSetPersister) and from `em.insertMany` / `em.nativeUpdate` alike.
 */
export function checkingColumns<T extends SqlDriverClass>(Base: T): T {
  return class extends Base {
    fits(entityName: string, rows: readonly unknown[]): void {
      const meta = this.metadata.find(Utils.className(entityName));
      if (!meta) return;
      for (const row of rows) if (row && typeof row === 'object') assertFits(meta, row as Record<string, unknown>);
    }

    override nativeInsert<E extends object>(entityName: string, data: EntityDictionary<E>, options?: Options<E>): Promise<QueryResult<E>> {
      this.fits(entityName, [data]);
      return super.nativeInsert(entityName, data, options);
    }

    override nativeInsertMany<E extends object>(entityName: string, data: EntityDictionary<E>[], options?: ManyOptions<E>, transform?: (sql: string) => string): Promise<QueryResult<E>> {
      this.fits(entityName, data);
      return super.nativeInsertMany(entityName, data, options, transform);
    }

    override nativeUpdate<E extends object>(entityName: string, where: FilterQuery<E>, data: EntityDictionary<E>, options?: Options<E> & UpsertOptions<E>): Promise<QueryResult<E>> {
      this.fits(entityName, [data]);
      return super.nativeUpdate(entityName, where, data, options);
    }

    override nativeUpdateMany<E extends object>(entityName: string, where: FilterQuery<E>[], data: EntityDictionary<E>[], options?: ManyOptions<E> & UpsertManyOptions<E>): Promise<QueryResult<E>> {
      this.fits(entityName, data);
      return super.nativeUpdateMany(entityName, where, data, options);
    }
  };
}
