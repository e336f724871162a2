import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/Principal.js';
import { FilterPredicates, type BrowseFilter } from './filter.js';

export interface CountRow { key: string; individuals: number; studies: number; series: number; images: number }

export interface Statistics {
  total: CountRow;
  byCollection: CountRow[];
  byModality: CountRow[];
  byAnatomicalSite: CountRow[];
}

/**
 * The OBIA paper's Table 1, S1 and S2: counts per collection, modality and anatomical site.
 * Counted over series (which carry their image count and their ancestors' ids), so one grouped
 * scan answers each table without touching the image table.
 */
export class StatisticsService {
  constructor(private readonly em: EntityManager, private readonly viewer: Principal | null) {}

  private async grouped(filter: BrowseFilter | null | undefined, keyColumn: string | null): Promise<CountRow[]> {
    // Only reads: from a read replica when the archive has one.
    const knex = this.em.getKnex('read');
    const p = new FilterPredicates(filter, this.viewer);
    const qb = knex('series as s').join('collection as c', 'c.id', 's.collection_id');
    if (p.individual.length) qb.join('individual as i', 'i.id', 's.individual_id');
    p.apply(qb, [...p.collection, ...p.individual, ...p.series, ...p.visibleSeries]);
    qb.select(
      knex.raw(keyColumn ? `${keyColumn} as k` : `'all' as k`),
      knex.raw('count(distinct s.individual_id) as individuals'),
      knex.raw('count(distinct s.study_id) as studies'),
      knex.raw('count(*) as series'),
      knex.raw('coalesce(sum(s.image_count), 0) as images'),
    );
    if (keyColumn) qb.groupBy(keyColumn).orderBy(keyColumn);
    const rows: any[] = await qb;
    return rows.map((r) => ({
      key: r.k ?? 'UNKNOWN',
      individuals: Number(r.individuals),
      studies: Number(r.studies),
      series: Number(r.series),
      images: Number(r.images),
    }));
  }

  /**
   * Each table is counted only when a query asks for it (its field is a promise started on first
   * read): a portal's facet counts ask many filtered totals in one request, and each should cost
   * one grouped scan, not four.
   */
  statistics(filter: BrowseFilter | null | undefined): { [K in keyof Statistics]: Promise<Statistics[K]> } {
    const once = <T>(run: () => Promise<T>) => { let p: Promise<T> | undefined; return () => (p ??= run()); };
    const total = once(async () => (await this.grouped(filter, null))[0] ?? { key: 'all', individuals: 0, studies: 0, series: 0, images: 0 });
    const byCollection = once(() => this.grouped(filter, 'c.accession'));
    const byModality = once(() => this.grouped(filter, 's.modality'));
    const byAnatomicalSite = once(() => this.grouped(filter, 's.anatomical_site'));
    return {
      get total() { return total(); },
      get byCollection() { return byCollection(); },
      get byModality() { return byModality(); },
      get byAnatomicalSite() { return byAnatomicalSite(); },
    };
  }
}
