import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import type { Knex } from 'knex';
import type { AccessControl } from './AccessControl.js';
import type { LinkClaims, LinkSigner, TargetKind } from './links.js';
import { Action, type CollectionRow } from './policy.js';
import { visibleSeriesWhere } from '../browse/visibility.js';

/** How long a download link stays valid. Long enough for a large archive to start, short enough to leak little. */
export const LINK_TTL_SECONDS = 3600;

export interface DownloadTarget { collection?: string | null; study?: string | null; series?: string | null }

/** One file of a download, with where it sits in the archive hierarchy. */
export interface DownloadFile {
  id: number;
  sopInstanceUid: string;
  sha256: string;
  size: number;
  seriesInstanceUid: string;
  studyAccession: string;
  studyInstanceUid: string;
  individualAccession: string;
  collectionAccession: string;
}

const COLLECTION_COLUMNS = ['c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState'];

/** Resolves download targets to their collection and files; signs links after the policy allows. */
export class DownloadService {
  constructor(
    private readonly em: EntityManager,
    private readonly access: AccessControl,
    private readonly signer: LinkSigner,
    private readonly baseUrl: () => string,
  ) {}

  private get knex(): Knex { return this.em.getKnex(); }

  static targetOf(target: DownloadTarget): { kind: TargetKind; id: string } {
    const given = (['collection', 'study', 'series'] as const).filter((k) => target[k] != null && target[k] !== '');
    if (given.length !== 1) {
      throw new GraphQLError('Name exactly one of collection, study or series.', { extensions: { code: 'BAD_USER_INPUT', argument: 'target' } });
    }
    return { kind: given[0]!, id: String(target[given[0]!]).trim() };
  }

  /** The collection a target lies in, whatever its visibility (the policy decides that). */
  async collectionOf(kind: TargetKind, id: string): Promise<CollectionRow | null> {
    const k = this.knex;
    const qb = kind === 'collection' ? k('collection as c').where('c.accession', id)
      : kind === 'study' ? k('study as st').join('collection as c', 'c.id', 'st.collection_id').where('st.accession', id)
      : k('series as s').join('collection as c', 'c.id', 's.collection_id').where('s.uid', id);
    // A series or study target is only as visible as its (published) series: release means reviewed.
    const published = kind === 'series' ? 's.published'
      : kind === 'study' ? k.raw('(select max(ps.published) from series as ps where ps.study_id = st.id) as published') : null;
    const row = await qb.first(published ? [...COLLECTION_COLUMNS, published] : COLLECTION_COLUMNS);
    return row ? { ...row, id: Number(row.id) } : null;
  }

  async createLink(target: DownloadTarget): Promise<{ url: string; expiresAt: Date; claims: LinkClaims }> {
    const { kind, id } = DownloadService.targetOf(target);
    const collection = await this.collectionOf(kind, id);
    await this.access.assertCan(Action.CREATE_DOWNLOAD_LINK, collection, `${kind} ${id}`);
    const exp = Math.floor(Date.now() / 1000) + LINK_TTL_SECONDS;
    const claims: LinkClaims = { sub: this.access.user!.id, kind, id, format: 'DICOM_ZIP', exp };
    const token = this.signer.sign(claims);
    return { url: `${this.baseUrl()}/files/${token}/archive.zip`, expiresAt: new Date(exp * 1000), claims };
  }

  private filesQuery(kind: TargetKind, id: string): Knex.QueryBuilder {
    const qb = this.knex('image as im')
      .join('series as s', 's.id', 'im.series_id')
      .join('study as st', 'st.id', 's.study_id')
      .join('individual as i', 'i.id', 's.individual_id')
      .join('collection as c', 'c.id', 's.collection_id')
      .select('im.id', 'im.uid as sopInstanceUid', 'im.sha256', 'im.size', 's.uid as seriesInstanceUid', 'st.accession as studyAccession',
        'st.study_instance_uid as studyInstanceUid', 'i.accession as individualAccession', 'c.accession as collectionAccession');
    // Only series the link's user may see: files added since the release wait for review.
    visibleSeriesWhere(this.access.user, 's')?.(qb);
    if (kind === 'collection') qb.where('c.accession', id);
    else if (kind === 'study') qb.where('st.accession', id);
    else qb.where('s.uid', id);
    return qb;
  }

  /** The target's files in id order, a page at a time, so a collection of millions never sits in memory. */
  async *files(kind: TargetKind, id: string, pageSize = 500): AsyncGenerator<DownloadFile[]> {
    let afterId = 0;
    for (;;) {
      const rows: any[] = await this.filesQuery(kind, id).where('im.id', '>', afterId).orderBy('im.id').limit(pageSize);
      if (!rows.length) return;
      yield rows.map((r) => ({ ...r, id: Number(r.id), size: Number(r.size) }));
      afterId = Number(rows[rows.length - 1].id);
      if (rows.length < pageSize) return;
    }
  }

  /** One file of the target by SOPInstanceUID; null when the target does not hold it. */
  async fileIn(kind: TargetKind, id: string, uid: string): Promise<DownloadFile | null> {
    const row = await this.filesQuery(kind, id).where('im.uid', uid).first();
    return row ? { ...row, id: Number(row.id), size: Number(row.size) } : null;
  }
}

/** Where a file sits in the zip: collection/individual/study/series/SOPInstanceUID.dcm. */
export function archivePath(f: DownloadFile): string {
  return `${f.collectionAccession}/${f.individualAccession}/${f.studyAccession}/${f.seriesInstanceUid}/${f.sopInstanceUid}.dcm`;
}
