import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/Principal.js';

/**
 * The collections (of `ids`) whose declared equivalent datasets one of the caller's unexpired
 * ControlledAccessGrants visas names: for these a visa grants what an approved request would.
 */
export async function visaGrantedCollections(em: EntityManager, user: Principal | null, ids: readonly number[], now = Date.now()): Promise<Set<number>> {
  const datasets = (user?.visas ?? []).filter((v) => v.exp * 1000 > now).map((v) => v.dataset);
  if (!datasets.length || !ids.length) return new Set();
  const rows = await em.getKnex()('collection_dataset').whereIn('collection_id', [...ids]).whereIn('dataset_id', datasets).select('collection_id');
  return new Set(rows.map((r: any) => Number(r.collection_id)));
}
