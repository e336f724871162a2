import type { Knex } from 'knex';
import type { Principal } from '../auth/Principal.js';
import { isCurator } from '../access/policy.js';

/**
 * The one visibility scope every reader uses (issue 22, point 3: release means reviewed).
 *
 * The unit is the series. Besides its collection's visibility (`visibleCollectionsWhere`), a
 * series is shown to callers other than its collection's submitter and curators only while it is
 * `published`: passed by a curator in a released collection. Releasing a collection publishes
 * every series in it (release is refused while any is unreviewed, failed or holds images held for
 * burned-in annotation); a series that arrives later stays unpublished, with its images,
 * thumbnails, preview, files and hash codes, until a curator passes it. Individuals and studies
 * are shown when they have a series the caller may see.
 *
 * Browse lists, lookups, statistics, counts, connections, federation references, downloads,
 * thumbnails, previews and similarImages all read through these functions; DICOMweb routes should
 * too (`visibleSeriesWhere(viewer, 's')` on their series alias, or `canSee` with the series'
 * `published` on a loaded row).
 */
export type Where = (qb: Knex.QueryBuilder) => void;

/** Series the viewer may see, against a series table aliased `alias`; null when every series is. */
export function visibleSeriesWhere(viewer: Principal | null, alias = 's'): Where | null {
  if (isCurator(viewer)) return null;
  return (qb) => qb.where((w) => {
    // Only a release or a curator's PASS in a released collection publishes a series, so a
    // published series lies in a released collection: one indexed column decides.
    w.whereRaw(`${alias}.published = 1`);
    // The submitter sees everything of their own collections, released or not (uncorrelated:
    // the database evaluates it once per statement).
    if (viewer) w.orWhereIn(`${alias}.collection_id`, (c: Knex.QueryBuilder) => c.select('id').from('collection').where('submitter', viewer.id));
  });
}

/**
 * Rows of a table that hangs above series (individual, study) that the viewer may see: those
 * with at least one visible series. `column` is the series column naming the parent.
 */
export function withVisibleSeries(viewer: Principal | null, parentAlias: string, column: 'individual_id' | 'study_id' | 'collection_id'): Where | null {
  const series = visibleSeriesWhere(viewer, 'vs');
  if (!series) return null;
  return (qb) => qb.whereExists((sub: Knex.QueryBuilder) => {
    sub.select(sub.client.raw('1')).from('series as vs').whereRaw(`vs.${column} = ${parentAlias}.id`);
    series(sub);
  });
}

/** Applies a scope (a no-op when null), for query builders written inline. */
export function scoped(qb: Knex.QueryBuilder, where: Where | null): Knex.QueryBuilder {
  where?.(qb);
  return qb;
}
