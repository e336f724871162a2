import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/knex';
import type { EntityName } from '@mikro-orm/core';
import { Collection, Image, Individual, Series, Study } from './entities/index.js';
import { createCurationLoaders } from './qc/curationLoader.js';
import type { Principal } from './auth/Principal.js';
import { visibleSeriesWhere, withVisibleSeries, type Where } from './browse/visibility.js';

/** Rows for many parents in one query, in parent order. */
function groupBy<T>(rows: T[], key: (row: T) => number, parents: readonly number[]): T[][] {
  const map = new Map<number, T[]>();
  for (const row of rows) {
    const k = key(row);
    let bucket = map.get(k);
    if (!bucket) map.set(k, (bucket = []));
    bucket.push(row);
  }
  return parents.map((p) => map.get(p) ?? []);
}

export interface ChildPageKey { parentId: number; afterId: number; limit: number }

/**
 * The first `limit` children after `afterId` of many parents at once: ROW_NUMBER() over the
 * parent partition keeps it to one statement however many parents a page shows.
 */
function childPageLoader<T extends object>(em: EntityManager, entity: EntityName<T>, table: string, parentColumn: string, scope: Where | null = null) {
  return new DataLoader<ChildPageKey, T[], string>(async (keys) => {
    const groups = new Map<string, ChildPageKey[]>();
    for (const k of keys) {
      const g = `${k.afterId}:${k.limit}`;
      groups.set(g, [...(groups.get(g) ?? []), k]);
    }
    const results = new Map<string, T[]>();
    const knex = em.getKnex();
    for (const group of groups.values()) {
      const { afterId, limit } = group[0]!;
      const parents = group.map((k) => k.parentId);
      const inner = knex(table)
        .select(`${table}.*`, knex.raw(`row_number() over (partition by ${parentColumn} order by id) as rn__`))
        .whereIn(parentColumn, parents)
        .where('id', '>', afterId);
      scope?.(inner);
      const rows: any[] = await knex.select('*').from(inner.as('t')).where('rn__', '<=', limit).orderBy('id');
      const byParent = groupBy(rows, (r) => Number(r[parentColumn]), parents);
      parents.forEach((p, i) => results.set(`${p}:${afterId}:${limit}`, byParent[i]!.map(({ rn__, ...row }) => em.map(entity, row))));
    }
    return keys.map((k) => results.get(`${k.parentId}:${k.afterId}:${k.limit}`) ?? []);
  }, { cacheKeyFn: (k) => `${k.parentId}:${k.afterId}:${k.limit}` });
}

function byIdLoader<T extends { id: number }>(em: EntityManager, entity: EntityName<T>) {
  return new DataLoader<number, T | null>(async (ids) => {
    const rows = await em.find(entity, { id: { $in: [...ids] } } as any);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

function countLoader(em: EntityManager, table: string, parentColumn: string, scope: Where | null = null) {
  return new DataLoader<number, number>(async (parents) => {
    const qb = em.getKnex()(table).select(parentColumn).count({ n: '*' }).whereIn(parentColumn, [...parents]).groupBy(parentColumn);
    scope?.(qb);
    const rows: any[] = await qb;
    const map = new Map(rows.map((r) => [Number(r[parentColumn]), Number(r.n)]));
    return parents.map((p) => map.get(p) ?? 0);
  });
}

function childrenLoader<T extends object>(em: EntityManager, entity: EntityName<T>, table: string, parentColumn: string, scope: Where | null) {
  return new DataLoader<number, T[]>(async (parents) => {
    const qb = em.getKnex()(table).select(`${table}.*`).whereIn(parentColumn, [...parents]).orderBy('id');
    scope?.(qb);
    const rows: any[] = await qb;
    return groupBy(rows, (r) => Number(r[parentColumn]), parents).map((g) => g.map((r) => em.map(entity, r)));
  });
}

/**
 * One set per request: batching across a query, and no cache that outlives the caller's rights.
 * Children and counts read through the viewer's series scope (src/browse/visibility.ts), so an
 * unpublished series, and a study or individual with nothing else, is neither listed nor counted.
 */
export function createLoaders(em: EntityManager, viewer: Principal | null = null) {
  const series = visibleSeriesWhere(viewer, 'series');
  return {
    collectionById: byIdLoader(em, Collection),
    individualById: byIdLoader(em, Individual),
    studyById: byIdLoader(em, Study),
    seriesById: byIdLoader(em, Series),
    studiesByIndividual: childrenLoader(em, Study, 'study', 'individual_id', withVisibleSeries(viewer, 'study', 'study_id')),
    seriesByStudy: childrenLoader(em, Series, 'series', 'study_id', series),
    individualsPageByCollection: childPageLoader(em, Individual, 'individual', 'collection_id', withVisibleSeries(viewer, 'individual', 'individual_id')),
    // A series' images are reached only through a series the viewer may see.
    imagesPageBySeries: childPageLoader(em, Image, 'image', 'series_id'),
    individualCountByCollection: countLoader(em, 'individual', 'collection_id', withVisibleSeries(viewer, 'individual', 'individual_id')),
    ...createFederationLoaders(em, viewer),
    ...createCurationLoaders(em),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

// ---- Federation: entity references and genomic links (issue 6). Raw rows, no visibility:
// loaders do not know the viewer, so callers (federation/hub/references.ts) apply the
// collection visibility rule to what comes back.

/**
 * One row per distinct key in one `where key in (…)`, so N representations cost one statement.
 * `populate` joins the parents the caller's visibility check reads (the collection; an image's
 * series and its collection) into that statement: loading them through a second loader would
 * batch per completed query, so on a pooled database the statement count would depend on which
 * of the parallel lookups answered first.
 */
function byKeyLoader<T extends object>(em: EntityManager, entity: EntityName<T>, property: string, populate: string[] = []) {
  return new DataLoader<string, T | null>(async (keys) => {
    const rows = await em.find(entity, { [property]: { $in: [...keys] } } as any, { populate: populate as any, strategy: 'joined' } as any);
    const map = new Map(rows.map((r: any) => [String(r[property]), r as T]));
    return keys.map((k) => map.get(k) ?? null);
  });
}

/** Rows grouped by a string column (a BioProject or GSA-Human accession), in id order. */
function byLinkLoader<T extends object>(em: EntityManager, entity: EntityName<T>, property: string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const rows = await em.find(entity, { [property]: { $in: [...keys] } } as any, { orderBy: { id: 'asc' } as any });
    const map = new Map<string, T[]>();
    for (const r of rows as any[]) map.set(r[property], [...(map.get(r[property]) ?? []), r]);
    return keys.map((k) => map.get(k) ?? []);
  });
}

export interface SeriesTotals { individuals: number; studies: number; series: number; images: number }

/** Individuals, studies, series and images under many parents from one grouped scan of `series`. */
function seriesTotalsLoader(em: EntityManager, parentColumn: string, scope: Where | null) {
  return new DataLoader<number, SeriesTotals>(async (parents) => {
    const knex = em.getKnex();
    const qb = knex('series').select(parentColumn)
      .select(knex.raw('count(distinct individual_id) as individuals'), knex.raw('count(distinct study_id) as studies'))
      .select(knex.raw('count(*) as series'), knex.raw('coalesce(sum(image_count), 0) as images'))
      .whereIn(parentColumn, [...parents]).groupBy(parentColumn);
    scope?.(qb);
    const rows: any[] = await qb;
    const map = new Map(rows.map((r) => [Number(r[parentColumn]), {
      individuals: Number(r.individuals), studies: Number(r.studies), series: Number(r.series), images: Number(r.images),
    }]));
    return parents.map((p) => map.get(p) ?? { individuals: 0, studies: 0, series: 0, images: 0 });
  });
}

export interface ModalityTotals { modality: string; studies: number; series: number; images: number }

/** Series per modality of many collections, one grouped statement. */
function modalityTotalsLoader(em: EntityManager, scope: Where | null) {
  return new DataLoader<number, ModalityTotals[]>(async (collections) => {
    const knex = em.getKnex();
    const qb = knex('series').select('collection_id', 'modality')
      .select(knex.raw('count(distinct study_id) as studies'), knex.raw('count(*) as series'), knex.raw('coalesce(sum(image_count), 0) as images'))
      .whereIn('collection_id', [...collections]).groupBy('collection_id', 'modality').orderBy('modality');
    scope?.(qb);
    const rows: any[] = await qb;
    const grouped = groupBy(rows, (r) => Number(r.collection_id), collections);
    return grouped.map((g) => g.map((r) => ({ modality: r.modality, studies: Number(r.studies), series: Number(r.series), images: Number(r.images) })));
  });
}

function hasVisibleSeriesLoader(em: EntityManager, parentColumn: string, scope: Where | null) {
  return new DataLoader<number, boolean>(async (parents) => {
    const qb = em.getKnex()('series').distinct(parentColumn).whereIn(parentColumn, [...parents]);
    scope?.(qb);
    const found = new Set((await qb).map((r: any) => Number(r[parentColumn])));
    return parents.map((p) => found.has(p));
  });
}

/** The federation loaders; `createLoaders` stays as it was, and these join it per request. */
export function createFederationLoaders(em: EntityManager, viewer: Principal | null = null) {
  const series = visibleSeriesWhere(viewer, 'series');
  return {
    collectionByAccession: byKeyLoader(em, Collection, 'accession'),
    individualByAccession: byKeyLoader(em, Individual, 'accession', ['collection']),
    studyByAccession: byKeyLoader(em, Study, 'accession', ['collection']),
    seriesByUid: byKeyLoader(em, Series, 'uid', ['collection']),
    imageByUid: byKeyLoader(em, Image, 'uid', ['series.collection']),
    collectionsByBioProject: byLinkLoader(em, Collection, 'bioProjectAccession'),
    individualsByGsaHuman: byLinkLoader(em, Individual, 'gsaHumanAccession'),
    seriesTotalsByCollection: seriesTotalsLoader(em, 'collection_id', series),
    seriesTotalsByIndividual: seriesTotalsLoader(em, 'individual_id', series),
    modalityTotalsByCollection: modalityTotalsLoader(em, series),
    /** Whether a study or an individual has a series the viewer may see (federation references). */
    studyHasVisibleSeries: hasVisibleSeriesLoader(em, 'study_id', series),
    individualHasVisibleSeries: hasVisibleSeriesLoader(em, 'individual_id', series),
  };
}
