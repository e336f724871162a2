import type { Knex } from 'knex';
import { WITHHELD_FROM_ALL_VERSIONS } from '../entities/ImageTombstone.js';
import { parseVersionId } from './versionId.js';

/** The collection of a version id (`OBIA0001.v2`) when that version exists; what the download policy decides on. */
export async function versionCollectionOf(knex: Knex, id: string, columns: string[]): Promise<any> {
  const v = parseVersionId(id);
  if (!v) return null;
  const row = await knex('collection_version as v').join('collection as c', 'c.id', 'v.collection_id')
    .where('c.accession', v.accession).where('v.number', v.number).first(columns);
  return row ? { ...row, id: Number(row.id) } : null;
}

/**
 * A version's files with the columns (and the `im.id` key) DownloadService pages by, read from
 * its manifest rather than the live catalogue: a version downloads as it was released.
 */
export function versionFilesQuery(knex: Knex, id: string): Knex.QueryBuilder {
  const v = parseVersionId(id) ?? { accession: '', number: 0 };
  return knex('release_manifest_entry as im')
    .join('collection_version as v', 'v.id', 'im.version_id')
    .join('collection as c', 'c.id', 'v.collection_id')
    .where('c.accession', v.accession).where('v.number', v.number)
    // Identifiable information is withheld from every version (src/entities/ImageTombstone.ts).
    .whereNotExists(knex('image_tombstone as t').whereRaw('t.sop_instance_uid = im.sop_instance_uid').whereIn('t.reason', [...WITHHELD_FROM_ALL_VERSIONS]).select(knex.raw('1')))
    .select('im.id', 'im.sop_instance_uid as sopInstanceUid', 'im.sha256', 'im.size', 'im.series_instance_uid as seriesInstanceUid',
      'im.study_accession as studyAccession', 'im.study_instance_uid as studyInstanceUid', 'im.individual_accession as individualAccession',
      'c.accession as collectionAccession');
}
