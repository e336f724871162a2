import type { EntityManager } from '@mikro-orm/knex';
import { FileState } from '../entities/SubmissionFile.js';

export interface ReleaseBlocker {
  /** PROCESSING, UNRESOLVED_QUARANTINE, UNREVIEWED_SERIES, FAILED_SERIES, HELD_FOR_PIXEL_REVIEW or EMPTY. */
  reason: string;
  count: number;
  message: string;
}

const PENDING = [FileState.RECEIVED, FileState.PARSED, FileState.DEIDENTIFIED];

/**
 * Why a collection cannot be released yet; empty when it can. A handful of COUNT queries over
 * indexed columns, whatever the collection's size: release must stay cheap to ask for, since
 * portals show the blockers on the curation page.
 */
export async function releaseBlockers(em: EntityManager, collectionId: number): Promise<ReleaseBlocker[]> {
  const knex = em.getKnex();
  const count = async (q: any): Promise<number> => Number((await q.count({ n: '*' }).first())?.n ?? 0);
  const files = () => knex('submission_file as f').join('submission as s', 's.id', 'f.submission_id').where('s.collection_id', collectionId);
  const discarded = (q: any) => q.whereNotExists(knex('file_curation as c').whereRaw('c.file_id = f.id').where('c.resolution', 'DISCARD').select(knex.raw('1')));

  const [pending, quarantined, series, unreviewed, failed, held] = await Promise.all([
    count(files().whereIn('f.state', PENDING)),
    count(discarded(files().where('f.state', FileState.QUARANTINED))),
    count(knex('series').where('collection_id', collectionId)),
    count(knex('series as se').leftJoin('series_review as r', 'r.series_id', 'se.id').where('se.collection_id', collectionId).whereNull('r.id')),
    count(knex('series as se').join('series_review as r', 'r.series_id', 'se.id').where('se.collection_id', collectionId).where('r.verdict', 'FAIL')),
    // A PASS after visual inspection accepts the series' held images; until then they block.
    count(files().join('image as i', 'i.uid', 'f.image_uid').leftJoin('series_review as r', 'r.series_id', 'i.series_id')
      .whereNotNull('f.held_for_pixel_review').whereIn('f.state', [FileState.STORED, FileState.INDEXED])
      .where((q: any) => q.whereNull('r.id').orWhereNot('r.verdict', 'PASS'))),
  ]);
  const out: ReleaseBlocker[] = [];
  const add = (reason: string, n: number, message: string) => { if (n > 0) out.push({ reason, count: n, message }); };
  add('PROCESSING', pending, `${pending} file(s) are still being processed`);
  add('UNRESOLVED_QUARANTINE', quarantined, `${quarantined} quarantined file(s) are neither repaired nor discarded`);
  add('UNREVIEWED_SERIES', unreviewed, `${unreviewed} of ${series} series have not been reviewed`);
  add('FAILED_SERIES', failed, `${failed} series failed review; repair and review them again`);
  add('HELD_FOR_PIXEL_REVIEW', held, `${held} image(s) held for pixel review (possible burned-in text) are in series not yet passed`);
  if (series === 0) out.push({ reason: 'EMPTY', count: 0, message: 'the collection has no series to release' });
  return out;
}
