// Decisions that read a row and then write must not be made twice by requests that arrive together.
//
// Two ways, both used by the services: a state change is one conditional UPDATE (`transition`),
// which only one of many concurrent requests can make, and the others learn who got there first;
// a decision that reads other rows first (a bound, blockers, "already there?") runs in a
// transaction that has locked the row it is about (`lockRow`), so a second request's reads wait
// for the first one's writes — as allocateAccession serialises the draft-collection bound on
// its counter row.
import { wrap, type EntityClass, type EntityData, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { ConflictError } from '../errors.js';

/**
 * The knex to send raw statements through from inside `em.transactional`: the transaction's own.
 * (em.getKnex() is the pool's, outside the transaction: on SQLite, whose pool is one connection,
 * a statement sent through it from inside a transaction waits for that transaction to end.)
 */
export function transactionKnex(tx: EntityManager): Knex {
  return (tx.getTransactionContext<Knex.Transaction>() ?? tx.getKnex()) as Knex;
}

/**
 * `tx`, but with getKnex() answering the transaction's knex: for helpers that read through
 * em.getKnex() (src/qc/blockers.ts) and must see, and wait for, what the transaction locked.
 */
export function boundToTransaction(tx: EntityManager): EntityManager {
  const knex = transactionKnex(tx);
  return new Proxy(tx, { get: (target, key, receiver) => (key === 'getKnex' ? () => knex : Reflect.get(target, key, receiver)) });
}

/**
 * Locks one row until the transaction `trx` ends; whether it exists. Every request that decides
 * about the row locks it first, so they decide one after the other, each seeing what the one
 * before wrote. MariaDB: SELECT … FOR UPDATE (a locking read; the transaction's snapshot is taken
 * at its first plain read, after the lock). SQLite has no row locks: a no-op UPDATE takes the
 * database's write lock (one connection per process serialises in-process requests already;
 * this also holds off another process, such as a CLI or worker).
 */
export async function lockRow(trx: Knex, table: string, id: number): Promise<boolean> {
  if (trx.client.dialect === 'sqlite3') return (await trx(table).where('id', id).update({ id })) > 0;
  return !!(await trx(table).where('id', id).forUpdate().first('id'));
}

/**
 * Locks the user's directory row (user_account, by subject) until the transaction ends: what one
 * user may hold at once (pending access requests, open submissions) is counted under it, so a
 * burst of their requests is counted one after another. The row exists for every caller of the
 * GraphQL API, which records the user first; without one there is nothing to serialise.
 */
export async function lockUserRow(tx: EntityManager, sub: string): Promise<void> {
  if (!tx.isInTransaction()) throw new Error('lockUserRow outside a transaction locks nothing');
  const knex = transactionKnex(tx);
  // Found and locked in one statement: on MariaDB a plain read first would take the
  // transaction's snapshot before the lock, and the counts after it would not see what the
  // request holding the lock had written.
  if (knex.client.dialect === 'sqlite3') await knex('user_account').where({ sub }).update({ sub });
  else await knex('user_account').where({ sub }).forUpdate().first('id');
}

/** lockRow for a MikroORM transaction. */
export function lockEntityRow(tx: EntityManager, table: string, id: number): Promise<boolean> {
  if (!tx.isInTransaction()) throw new Error(`lockRow(${table}) outside a transaction locks nothing`);
  return lockRow(transactionKnex(tx), table, id);
}

export interface Transition<T> {
  /** The states the row may be in for the change to apply. */
  from: readonly string[];
  /** The new values, its new state among them. */
  set: EntityData<T>;
  /** The row as a message names it ("access request 12"). */
  what: string;
  /** The state column's property name (default `state`). */
  column?: string;
}

/**
 * Moves `row` from one of `from` to `set` in one conditional UPDATE (… WHERE id = ? AND state IN
 * (from)), so of requests that arrive together exactly one moves it; `row` then holds the values
 * written, and its unit of work takes them as stored (a later flush does not write them again).
 * The others get a ConflictError (409) naming the state another request left it in.
 */
export async function transition<T extends { id: number }>(em: EntityManager, row: T, t: Transition<T>): Promise<T> {
  const entity = row.constructor as EntityClass<T>;
  const column = t.column ?? 'state';
  const moved = await em.nativeUpdate(entity, { id: row.id, [column]: { $in: [...t.from] } } as FilterQuery<T>, t.set);
  if (moved > 0) {
    em.assign(row, t.set as any);
    wrap(row, true).__originalEntityData = em.getComparator().prepareEntity(row);
    return row;
  }
  const now = await em.fork().findOne(entity, { id: row.id } as FilterQuery<T>, { fields: [column] as any, connectionType: 'write' });
  const state = now ? String((now as Record<string, unknown>)[column]) : 'gone';
  throw new ConflictError(`${t.what} is ${state} now: another request changed it first (it was ${t.from.join(' or ')}).`);
}
