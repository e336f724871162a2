import { hasRole, Role, type Principal } from '../../src/auth/Principal.js';
import type { Collection } from '../../src/entities/index.js';

/**
 * The browse visibility rule (src/browse/filter.ts, FilterPredicates) for rows already loaded:
 * unreleased collections, and everything under them, only for their submitter and curators.
 * Entity references go through batch loaders that cannot filter per viewer in SQL, so they
 * check here; keep the two in step.
 */
export function canSeeCollection(viewer: Principal | null, collection: Collection | null | undefined): collection is Collection {
  if (!collection) return false;
  if (collection.releaseState === 'RELEASED') return true;
  if (hasRole(viewer, Role.CURATOR, Role.ADMIN)) return true;
  return !!viewer && collection.submitter === viewer.id;
}
