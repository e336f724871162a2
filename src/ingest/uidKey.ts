import type { EntityManager } from '@mikro-orm/knex';
import { collectionUidKey } from '../deid/index.js';
import { UidScope } from '../entities/Collection.js';

/**
 * The key a collection's files have their UIDs remapped under, read from its row: the
 * collection's own (collectionUidKey), or the archive secret for a collection that held images
 * under it before keys were per collection (uid_scope ARCHIVE).
 */
export async function uidKeyOf(em: EntityManager, collectionId: number, secret: string): Promise<string> {
  const row: { accession: string; uid_scope: string } | undefined = await em.getKnex()('collection').where('id', collectionId).first('accession', 'uid_scope');
  if (!row) throw new Error(`collection ${collectionId} is gone`);
  return row.uid_scope === UidScope.ARCHIVE ? secret : collectionUidKey(secret, row.accession);
}
