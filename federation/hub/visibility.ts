import type { Principal } from '../../src/auth/Principal.js';
import { canSee } from '../../src/access/policy.js';
import type { Collection, Series } from '../../src/entities/index.js';

/**
 * The access policy's visibility rule (src/access/policy.ts) for rows already loaded: entity
 * references go through batch loaders that cannot filter per viewer in SQL, so they check here.
 */
export function canSeeCollection(viewer: Principal | null, collection: Collection | null | undefined, series?: Pick<Series, 'published'>): collection is Collection {
  return !!collection && canSee(viewer, series ? { ...collection, published: series.published } : collection);
}
