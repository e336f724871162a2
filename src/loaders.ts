import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/knex';
import type { EntityName } from '@mikro-orm/core';
import { Collection, Image, Individual, Series, Study } from './entities/index.js';

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
function childPageLoader<T extends object>(em: EntityManager, entity: EntityName<T>, table: string, parentColumn: string) {
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

function countLoader(em: EntityManager, table: string, parentColumn: string) {
  return new DataLoader<number, number>(async (parents) => {
    const rows: any[] = await em.getKnex()(table).select(parentColumn).count({ n: '*' }).whereIn(parentColumn, [...parents]).groupBy(parentColumn);
    const map = new Map(rows.map((r) => [Number(r[parentColumn]), Number(r.n)]));
    return parents.map((p) => map.get(p) ?? 0);
  });
}

function childrenLoader<T extends object>(em: EntityManager, entity: EntityName<T>, relation: string) {
  return new DataLoader<number, T[]>(async (parents) => {
    const rows = await em.find(entity, { [relation]: { $in: [...parents] } } as any, { orderBy: { id: 'asc' } as any });
    return groupBy(rows, (r: any) => r[relation].id, parents);
  });
}

/** One set per request: batching across a query, and no cache that outlives the caller's rights. */
export function createLoaders(em: EntityManager) {
  return {
    collectionById: byIdLoader(em, Collection),
    individualById: byIdLoader(em, Individual),
    studyById: byIdLoader(em, Study),
    seriesById: byIdLoader(em, Series),
    studiesByIndividual: childrenLoader(em, Study, 'individual'),
    seriesByStudy: childrenLoader(em, Series, 'study'),
    individualsPageByCollection: childPageLoader(em, Individual, 'individual', 'collection_id'),
    imagesPageBySeries: childPageLoader(em, Image, 'image', 'series_id'),
    individualCountByCollection: countLoader(em, 'individual', 'collection_id'),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
