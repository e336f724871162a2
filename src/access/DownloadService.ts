import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import type { Knex } from 'knex';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BlobCorruptError, type VerifiedBlob } from '../storage/VerifiedReader.js';
import type { AccessControl } from './AccessControl.js';
import type { LinkClaims, LinkSigner, TargetKind } from './links.js';
import { Action, type CollectionRow } from './policy.js';
import { versionCollectionOf, versionFilesQuery } from '../releases/downloads.js';
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
    if (kind === 'version') return versionCollectionOf(k, id, COLLECTION_COLUMNS);
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
    return this.createLinkFor(kind, id);
  }

  /**
   * A link to any target kind (collection versions and DRS objects come here directly).
   * `file`: a link to that one image of the target. A passport holder's link ends with the
   * passport (it never outlives the visa that granted it).
   */
  async createLinkFor(kind: TargetKind, id: string, file?: string): Promise<{ url: string; expiresAt: Date; claims: LinkClaims }> {
    const collection = await this.collectionOf(kind, id);
    await this.access.assertCan(Action.CREATE_DOWNLOAD_LINK, collection, `${kind} ${id}`);
    const exp = Math.min(Math.floor(this.access.now().getTime() / 1000) + LINK_TTL_SECONDS, this.access.user!.expiresAt ?? Infinity);
    const claims: LinkClaims = { sub: this.access.user!.id, kind, id, format: 'DICOM_ZIP', exp };
    const token = this.signer.sign(claims);
    const path = file ? `images/${file}.dcm` : 'archive.zip';
    return { url: `${this.baseUrl()}/files/${token}/${path}`, expiresAt: new Date(exp * 1000), claims };
  }

  private filesQuery(kind: TargetKind, id: string): Knex.QueryBuilder {
    if (kind === 'version') return versionFilesQuery(this.knex, id);
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
    const row = await this.filesQuery(kind, id).where(kind === 'version' ? 'im.sop_instance_uid' : 'im.uid', uid).first();
    return row ? { ...row, id: Number(row.id), size: Number(row.size) } : null;
  }
}

/** Where a file sits in the zip: collection/individual/study/series/SOPInstanceUID.dcm. */
export function archivePath(f: DownloadFile): string {
  return `${f.collectionAccession}/${f.individualAccession}/${f.studyAccession}/${f.seriesInstanceUid}/${f.sopInstanceUid}.dcm`;
}

/** Where a zip's entries go: `add` resolves once the entry is fully written (and rejects if it or the zip fails). */
export interface ArchiveSink {
  add(source: Readable | string, name: string): Promise<void>;
  /** The client went away: stop reading files. */
  aborted(): boolean;
}

/** Opens a stored file verified (see src/storage/VerifiedReader.ts); null when it is not held. */
export type OpenBlob = (sha256: string) => Promise<VerifiedBlob | null>;

/**
 * Fills a download's zip: each file is verified before it is added (the backup serves for a
 * corrupt primary), so a bad copy never reaches the client; a file held in no good copy is
 * left out and says so in manifest.json, which comes last for that reason. The manifest's
 * lines wait in a temporary file under `tmpDir`, so a collection of millions never sits in memory.
 */
export async function fillArchive(downloads: DownloadService, claims: LinkClaims, open: OpenBlob, sink: ArchiveSink, tmpDir: string, notHeldReason: string): Promise<void> {
  await fs.promises.mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(tmpDir, `manifest-${crypto.randomUUID()}.json`);
  const lines = await fs.promises.open(tmp, 'w', 0o600);
  // Images listed but not held (metadata-only rows) go apart, to a file of their own: a target may list millions.
  const tmpNotHeld = `${tmp}.not-held`;
  const notHeldLines = await fs.promises.open(tmpNotHeld, 'w', 0o600);
  let notHeld = 0;
  let failed = 0;
  let count = 0;
  try {
    for await (const page of downloads.files(claims.kind, claims.id)) {
      let chunk = '';
      let apart = '';
      for (const f of page) {
        if (sink.aborted()) return;
        const entry: Record<string, unknown> = {
          path: archivePath(f), collection: f.collectionAccession, individual: f.individualAccession, study: f.studyAccession,
          studyInstanceUid: f.studyInstanceUid, seriesInstanceUid: f.seriesInstanceUid, sopInstanceUid: f.sopInstanceUid, sha256: f.sha256, size: f.size,
        };
        let blob: VerifiedBlob | null = null;
        try {
          blob = await open(f.sha256);
          // Metadata-only rows (the full-scale benchmark seed) have no stored bytes: listed apart, not fatal.
          if (!blob) { apart += (notHeld++ ? ',\n' : '\n') + JSON.stringify(entry); continue; }
        } catch (err) {
          if (!(err instanceof BlobCorruptError)) throw err;
          failed++;
          Object.assign(entry, { error: 'CORRUPT', message: 'both stored copies fail their sha256; the file is left out of this archive and the archive has been alerted' });
        }
        if (blob) await sink.add(blob.stream(), archivePath(f));
        chunk += (count++ ? ',\n' : '\n') + JSON.stringify(entry);
      }
      await lines.write(chunk);
      if (apart) await notHeldLines.write(apart);
    }
    await lines.close();
    await notHeldLines.close();
    if (sink.aborted()) return;
    const head = `{"target":${JSON.stringify({ kind: claims.kind, id: claims.id })},"generatedAt":"${new Date().toISOString()}","complete":${failed === 0 && notHeld === 0},"failed":${failed},"files":[`;
    const middle = `\n],"notHeld":{"reason":${JSON.stringify(notHeldReason)},"files":[`;
    await sink.add(Readable.from((async function* () {
      yield Buffer.from(head);
      for await (const c of fs.createReadStream(tmp)) yield c as Buffer;
      yield Buffer.from(middle);
      for await (const c of fs.createReadStream(tmpNotHeld)) yield c as Buffer;
      yield Buffer.from('\n]}}\n');
    })(), { objectMode: false }), 'manifest.json');
  } finally {
    await lines.close().catch(() => {});
    await notHeldLines.close().catch(() => {});
    await fs.promises.rm(tmp, { force: true });
    await fs.promises.rm(tmpNotHeld, { force: true });
  }
}
