import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import { echo } from './errors.js';

/**
 * Accession formats. The archive allocates them from counters that only grow, so an
 * accession is never reused and never derived from anything a submitter sent.
 */
export const ACCESSION_KINDS = {
  collection: { prefix: 'OBIA', digits: 4 },
  individual: { prefix: 'I', digits: 6 },
  study: { prefix: 'S', digits: 8 },
} as const;

export type AccessionKind = keyof typeof ACCESSION_KINDS;

export const ACCESSION_PATTERNS: Record<AccessionKind, RegExp> = {
  collection: /^OBIA\d{4}$/,
  individual: /^I\d{6}$/,
  study: /^S\d{8}$/,
};

export function formatAccession(kind: AccessionKind, n: number): string {
  const { prefix, digits } = ACCESSION_KINDS[kind];
  const body = String(n).padStart(digits, '0');
  if (body.length > digits) throw new Error(`${kind} accession space exhausted at ${n}`);
  return prefix + body;
}

export function describeFormat(kind: AccessionKind): string {
  const { prefix, digits } = ACCESSION_KINDS[kind];
  return `${prefix} followed by ${digits} digits (e.g. ${formatAccession(kind, 1)})`;
}

/** Throws BAD_USER_INPUT naming the expected format when `value` is not a `kind` accession. */
export function assertAccession(kind: AccessionKind, value: string): void {
  if (!ACCESSION_PATTERNS[kind].test(value)) {
    throw new GraphQLError(`${echo(value)} is not a ${kind} accession: expected ${describeFormat(kind)}.`, {
      extensions: { code: 'BAD_USER_INPUT', argument: 'accession', expectedFormat: describeFormat(kind) },
    });
  }
}

export function kindOfAccession(value: string): AccessionKind | null {
  for (const kind of Object.keys(ACCESSION_PATTERNS) as AccessionKind[]) {
    if (ACCESSION_PATTERNS[kind].test(value)) return kind;
  }
  return null;
}

/**
 * Reserves `count` consecutive numbers of `kind` and returns the first. The increment is a
 * single UPDATE, so concurrent callers serialise on the counter row (InnoDB row lock; SQLite's
 * write lock) and each gets a distinct range; the read happens inside the same transaction.
 */
export async function allocateAccessionNumbers(em: EntityManager, kind: AccessionKind, count = 1): Promise<number> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`cannot allocate ${count} accessions`);
  return em.transactional(async (tx) => {
    const knex = tx.getKnex();
    const trx = tx.getTransactionContext();
    const q = () => (trx ? knex('accession_counter').transacting(trx) : knex('accession_counter'));
    const updated = await q().where({ kind }).increment('next_value', count);
    if (!updated) {
      // First allocation of this kind: insert, tolerating a concurrent first insert.
      try {
        await q().insert({ kind, next_value: 1 + count });
        return 1;
      } catch {
        await q().where({ kind }).increment('next_value', count);
      }
    }
    // A locking read: under REPEATABLE READ a plain SELECT could see a snapshot older than our UPDATE.
    const read = q().where({ kind });
    const row = await (knex.client.dialect === 'sqlite3' ? read : read.forUpdate()).first('next_value');
    return Number(row.next_value) - count;
  });
}

export async function allocateAccession(em: EntityManager, kind: AccessionKind): Promise<string> {
  return formatAccession(kind, await allocateAccessionNumbers(em, kind, 1));
}
