import type { EntityManager } from '@mikro-orm/knex';

/**
 * Rows per statement: bounded IN lists and parameter counts on both dialects (SQLite allows
 * 32,766), and statements far under MariaDB's 16 MB max_allowed_packet (MikroORM writes the values
 * inline: a zip's 200,000 received files in one insert were ≈ 36 MB).
 */
const CHUNK = 400;

/** Inserts entities (or rows) with one multi-row statement per CHUNK; the caller's transaction, if any, holds them all. */
export async function insertRows(em: EntityManager, rows: readonly object[]): Promise<void> {
  for (let at = 0; at < rows.length; at += CHUNK) await em.insertMany(rows.slice(at, at + CHUNK));
}

/**
 * Sets per-row values on many rows with one statement per CHUNK rows:
 * `UPDATE t SET c = CASE id WHEN ? THEN ? … ELSE c END, … WHERE id IN (…)`. What a batch changes
 * costs the same however many rows the submission already has, which a unit-of-work flush
 * (one UPDATE per entity) or a re-read of the submission's rows does not.
 */
export async function updateRows(em: EntityManager, table: string, rows: readonly { id: number; values: Record<string, unknown> }[]): Promise<void> {
  const knex = em.getKnex();
  const tx = em.getTransactionContext();
  for (let at = 0; at < rows.length; at += CHUNK) {
    const chunk = rows.slice(at, at + CHUNK);
    const columns = [...new Set(chunk.flatMap((r) => Object.keys(r.values)))];
    const sets: string[] = [];
    const bindings: any[] = [];
    for (const column of columns) {
      const having = chunk.filter((r) => column in r.values);
      const distinct = new Set(having.map((r) => r.values[column]));
      if (having.length === chunk.length && distinct.size === 1) {
        // The same value for every row: no CASE needed.
        sets.push('?? = ?');
        bindings.push(column, having[0].values[column]);
        continue;
      }
      sets.push(`?? = CASE ?? ${having.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ?? END`);
      bindings.push(column, 'id');
      for (const r of having) bindings.push(r.id, r.values[column] ?? null);
      bindings.push(column);
    }
    const query = knex.raw(`UPDATE ?? SET ${sets.join(', ')} WHERE ?? IN (${chunk.map(() => '?').join(', ')})`, [table, ...bindings, 'id', ...chunk.map((r) => r.id)]);
    await (tx ? query.transacting(tx) : query);
  }
}
