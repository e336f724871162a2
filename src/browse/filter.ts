import type { Knex } from 'knex';
import { Sex } from '../domain.js';
import type { Principal } from '../auth/Principal.js';
import { visibleCollectionsWhere } from '../access/policy.js';
import { BadUserInputError } from '../errors.js';
import { visibleSeriesWhere } from './visibility.js';

/** Browse filters, shared by every connection and by statistics. All fields are optional and ANDed. */
export interface BrowseFilter {
  sex?: Sex[] | null;
  ageMin?: number | null;
  ageMax?: number | null;
  disease?: string | null;
  modality?: string[] | null;
  anatomicalSite?: string[] | null;
  accessibility?: string | null;
  collection?: string[] | null;
  hasGsaHumanLink?: boolean | null;
  keyword?: string | null;
}

/**
 * LIKE patterns must not let a user's % or _ widen the match. The escape character is `!`
 * because a backslash means different things in MySQL and SQLite string literals.
 */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

type Where = (qb: Knex.QueryBuilder) => void;

/** Bounds of a filter: far above any real use, far below what makes a statement costly. */
export const FILTER_LIMITS = { text: 200, listValues: 50, valueLength: 64 } as const;

/**
 * Refuses an oversized filter as BAD_USER_INPUT, naming the field but never echoing its value
 * (a megabyte keyword would otherwise travel back in the error and into logs).
 */
export function checkFilter(f: BrowseFilter): void {
  for (const key of ['disease', 'keyword'] as const) {
    const v = f[key];
    if (typeof v === 'string' && v.length > FILTER_LIMITS.text) throw new BadUserInputError(`"filter.${key}" is longer than ${FILTER_LIMITS.text} characters.`, `filter.${key}`);
  }
  for (const key of ['sex', 'modality', 'anatomicalSite', 'collection'] as const) {
    const list = f[key];
    if (!Array.isArray(list)) continue;
    if (list.length > FILTER_LIMITS.listValues) throw new BadUserInputError(`"filter.${key}" has more than ${FILTER_LIMITS.listValues} values.`, `filter.${key}`);
    if (list.some((v) => typeof v === 'string' && v.length > FILTER_LIMITS.valueLength)) {
      throw new BadUserInputError(`A value of "filter.${key}" is longer than ${FILTER_LIMITS.valueLength} characters.`, `filter.${key}`);
    }
  }
}

/**
 * Splits a filter into predicates per table, each written against a fixed alias:
 * c = collection, i = individual, s = series. Callers join the aliases they need.
 */
export class FilterPredicates {
  readonly collection: Where[] = [];
  readonly individual: Where[] = [];
  readonly series: Where[] = [];
  /** The series the viewer may see (src/browse/visibility.ts); empty for curators. */
  readonly visibleSeries: Where[] = [];

  constructor(filter: BrowseFilter | null | undefined, viewer: Principal | null) {
    const f = filter ?? {};
    checkFilter(f);
    // Visibility is the access policy's (src/access/policy.ts), here in its SQL form.
    const visible = visibleCollectionsWhere(viewer);
    if (visible) this.collection.push(visible);
    const series = visibleSeriesWhere(viewer);
    if (series) this.visibleSeries.push(series);
    if (f.accessibility) this.collection.push((qb) => qb.where('c.accessibility', f.accessibility!));
    if (f.collection?.length) this.collection.push((qb) => qb.whereIn('c.accession', f.collection!));
    if (f.keyword?.trim()) {
      // Every word must appear somewhere in title, description or keywords.
      for (const word of f.keyword.trim().split(/\s+/)) {
        this.collection.push((qb) => qb.whereRaw(`c.search_text like ? escape '!'`, [likePattern(word)]));
      }
    }
    if (f.sex?.length) this.individual.push((qb) => qb.whereIn('i.sex', f.sex!));
    if (f.ageMin != null) this.individual.push((qb) => qb.where('i.age', '>=', f.ageMin!));
    if (f.ageMax != null) this.individual.push((qb) => qb.where('i.age', '<=', f.ageMax!));
    if (f.disease?.trim()) {
      this.individual.push((qb) => qb.whereRaw(`lower(i.disease) like ? escape '!'`, [likePattern(f.disease!.trim())]));
    }
    if (f.hasGsaHumanLink != null) {
      this.individual.push((qb) => (f.hasGsaHumanLink ? qb.whereNotNull('i.gsa_human_accession') : qb.whereNull('i.gsa_human_accession')));
    }
    if (f.modality?.length) this.series.push((qb) => qb.whereIn('s.modality', f.modality!.map((m) => m.toUpperCase())));
    if (f.anatomicalSite?.length) this.series.push((qb) => qb.whereIn('s.anatomical_site', f.anatomicalSite!.map((m) => m.toUpperCase())));
  }

  apply(qb: Knex.QueryBuilder, predicates: Where[]): Knex.QueryBuilder {
    for (const p of predicates) p(qb);
    return qb;
  }
}
