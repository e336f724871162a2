import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import { FileCuration } from '../entities/FileCuration.js';
import { SeriesReview, type QcVerdict } from '../entities/SeriesReview.js';

/**
 * The curation fields' loaders, part of each request's set (src/loaders.ts): a list
 * (`submission.files`, a page of series or studies) with curation fields costs one query for
 * all its rows instead of one per row.
 */
export function createCurationLoaders(em: EntityManager) {
  return {
    /** A file's curation record (repair request, resolution), or null. */
    fileCuration: new DataLoader<number, FileCuration | null>(async (ids) => {
      const byFile = new Map((await em.find(FileCuration, { file: { $in: [...ids] } })).map((r) => [r.file.id, r]));
      return ids.map((id) => byFile.get(id) ?? null);
    }),
    /** The current review of each series, or null. */
    seriesReview: new DataLoader<number, SeriesReview | null>(async (ids) => {
      const bySeries = new Map((await em.find(SeriesReview, { series: { $in: [...ids] } })).map((r) => [r.series.id, r]));
      return ids.map((id) => bySeries.get(id) ?? null);
    }),
    /** For each study, the verdict of each of its series (null: not reviewed). */
    studyVerdicts: new DataLoader<number, (QcVerdict | null)[]>(async (ids) => {
      const rows: { study: number; verdict: QcVerdict | null }[] = await em.getKnex()('series as se').leftJoin('series_review as r', 'r.series_id', 'se.id')
        .whereIn('se.study_id', [...ids]).select('se.study_id as study', 'r.verdict as verdict');
      const byStudy = new Map<number, (QcVerdict | null)[]>(ids.map((id) => [id, []]));
      for (const r of rows) byStudy.get(Number(r.study))?.push(r.verdict ?? null);
      return ids.map((id) => byStudy.get(id)!);
    }),
  };
}
