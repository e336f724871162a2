import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import { FileCuration } from '../entities/FileCuration.js';
import { SeriesReview, type QcVerdict } from '../entities/SeriesReview.js';

// One loader of each kind per request EntityManager (each request forks its own), so a list
// (`submission.files`, a page of series or studies) with curation fields costs one query for
// all its rows instead of one per row.
const loaders = new WeakMap<EntityManager, Map<string, DataLoader<number, unknown>>>();

function perRequest<V>(em: EntityManager, kind: string, batch: (ids: readonly number[]) => Promise<V[]>): DataLoader<number, V> {
  let mine = loaders.get(em);
  if (!mine) loaders.set(em, (mine = new Map()));
  let l = mine.get(kind) as DataLoader<number, V> | undefined;
  if (!l) mine.set(kind, (l = new DataLoader<number, V>(batch)));
  return l;
}

export function fileCurationLoader(em: EntityManager): DataLoader<number, FileCuration | null> {
  return perRequest(em, 'fileCuration', async (ids) => {
    const byFile = new Map((await em.find(FileCuration, { file: { $in: [...ids] } })).map((r) => [r.file.id, r]));
    return ids.map((id) => byFile.get(id) ?? null);
  });
}

/** The current review of each series, or null. */
export function seriesReviewLoader(em: EntityManager): DataLoader<number, SeriesReview | null> {
  return perRequest(em, 'seriesReview', async (ids) => {
    const bySeries = new Map((await em.find(SeriesReview, { series: { $in: [...ids] } })).map((r) => [r.series.id, r]));
    return ids.map((id) => bySeries.get(id) ?? null);
  });
}

/** For each study, the verdict of each of its series (null: not reviewed). */
export function studyVerdictsLoader(em: EntityManager): DataLoader<number, (QcVerdict | null)[]> {
  return perRequest(em, 'studyVerdicts', async (ids) => {
    const rows: { study: number; verdict: QcVerdict | null }[] = await em.getKnex()('series as se').leftJoin('series_review as r', 'r.series_id', 'se.id')
      .whereIn('se.study_id', [...ids]).select('se.study_id as study', 'r.verdict as verdict');
    const byStudy = new Map<number, (QcVerdict | null)[]>(ids.map((id) => [id, []]));
    for (const r of rows) byStudy.get(Number(r.study))?.push(r.verdict ?? null);
    return ids.map((id) => byStudy.get(id)!);
  });
}
