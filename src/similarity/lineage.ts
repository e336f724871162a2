import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import type { FilterPredicates } from '../browse/filter.js';
import type { CollectionRow } from '../access/policy.js';
import { mapReadOnly } from '../db/readOnly.js';
import { Collection, Image, Individual, Series, Study } from '../entities/index.js';

/** What a result list shows besides the images, for the request's loaders (SimilarImagesResolver primes them). */
export interface Lineage { series: Series[]; studies: Study[]; individuals: Individual[]; collections: Collection[] }

/** One image's row with its series, study, individual and collection, columns prefixed by alias. */
export type LineageRow = Record<string, unknown>;

// The aliases are the browse predicates' (s, c, i: src/browse/filter.ts); the image is `im`.
const TABLES: readonly (readonly [string, EntityClass<object>])[] = [['im', Image], ['s', Series], ['st', Study], ['i', Individual], ['c', Collection]];
/** An image's lineage, each entity after those it refers to. */
const PARENTS = [...TABLES].slice(1).reverse();

/** The columns em.find selects for an entity (no lazy ones), computed once per entity. */
const columnCache = new WeakMap<object, string[]>();
function columnsOf(em: EntityManager, entity: EntityClass<object>): string[] {
  let cols = columnCache.get(entity);
  if (!cols) {
    const platform = em.getPlatform();
    cols = em.getMetadata().get(entity.name).props.filter((p) => platform.shouldHaveColumn(p, [], [], false)).flatMap((p) => p.fieldNames);
    columnCache.set(entity, cols);
  }
  return cols;
}

/**
 * `straight_join` (MariaDB/MySQL) and every column as `alias__column`, quoted once per dialect:
 * knex wrapping sixty identifiers on every query cost more than the rest of the statement's build.
 */
const selectLists = new Map<string, string>();
function selectList(em: EntityManager, knex: Knex): string {
  const dialect = String(knex.client.dialect);
  let list = selectLists.get(dialect);
  if (!list) {
    const names: string[] = [];
    const bindings: string[] = [];
    for (const [alias, entity] of TABLES) {
      for (const col of columnsOf(em, entity)) {
        names.push('?? as ??');
        bindings.push(`${alias}.${col}`, `${alias}__${col}`);
      }
    }
    list = (dialect !== 'sqlite3' ? 'straight_join ' : '') + knex.raw(names.join(', '), bindings).toQuery();
    selectLists.set(dialect, list);
  }
  return list;
}

/**
 * Rows of the images `ids` that the browse predicates admit, each with its series, study,
 * individual and collection, in one statement keyed by image id. The plan starts from the
 * images' primary keys (straight_join on MariaDB: right after a bulk load InnoDB's statistics
 * still describe empty tables, and the optimizer then started from the four collections and
 * walked every series, 0.45 s a query at 1.94 M images instead of ~1 ms).
 */
export async function lineageRows(em: EntityManager, p: FilterPredicates, ids: readonly number[]): Promise<Map<number, LineageRow>> {
  if (!ids.length) return new Map();
  const knex = em.getKnex('read');
  // SQLite's CROSS JOIN keeps the same order: given a long id list (similarImages asks for 4·k,
  // up to 4,000) its planner started from the visible collections too and probed every visible
  // series for every id (2,470 series × 4,000 ids: 1.5 s a query at 194,000 images; ten times
  // the series at the paper's size), where reading the images by key takes milliseconds.
  const join = knex.client.dialect === 'sqlite3' ? 'crossJoin' : 'join';
  const qb = knex('image as im')[join]('series as s', 's.id', 'im.series_id')[join]('collection as c', 'c.id', 's.collection_id')
    [join]('individual as i', 'i.id', 's.individual_id')[join]('study as st', 'st.id', 's.study_id')
    .whereIn('im.id', [...ids]).select(knex.raw(selectList(em, knex)));
  p.apply(qb, [...p.collection, ...p.individual, ...p.series, ...p.visibleSeries]);
  const rows: LineageRow[] = await qb;
  return new Map(rows.map((r) => [Number(r.im__id), r]));
}

/** The collection facts the access policy decides on, from a lineage row. */
export function collectionOf(row: LineageRow): CollectionRow {
  return { id: Number(row.c__id), accession: String(row.c__accession), submitter: String(row.c__submitter), accessibility: String(row.c__accessibility), releaseState: String(row.c__release_state) };
}

function part(em: EntityManager, row: LineageRow, alias: string, entity: EntityClass<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const col of columnsOf(em, entity)) out[col] = row[`${alias}__${col}`];
  return out;
}

/**
 * Read-only entities (src/db/readOnly.ts) for the rows, in their order: each collection,
 * individual, study and series made once however many images share it, and handed to its
 * children as their reference. em.find merged every joined row into the identity map, re-merging
 * each shared parent per image (~7 ms CPU of a query at 30 results); uninitialised references
 * for every relation were another ~1.5 ms.
 */
export function toEntities(em: EntityManager, rows: readonly LineageRow[]): { images: Image[]; lineage: Lineage } {
  const made = new Map<string, object>();
  const parent = (type: string, id: unknown) => made.get(`${type}:${String(id)}`);
  const lineage: Lineage = { series: [], studies: [], individuals: [], collections: [] };
  const lists: Record<string, object[]> = { s: lineage.series, st: lineage.studies, i: lineage.individuals, c: lineage.collections };
  const images = rows.map((row) => {
    // Parents first, so that each child finds them.
    for (const [alias, entity] of PARENTS) {
      const key = `${entity.name}:${String(row[`${alias}__id`])}`;
      if (made.has(key)) continue;
      const e = mapReadOnly(em, entity, part(em, row, alias, entity), parent);
      made.set(key, e);
      lists[alias]!.push(e);
    }
    return mapReadOnly(em, Image, part(em, row, 'im', Image), parent);
  });
  return { images, lineage };
}
