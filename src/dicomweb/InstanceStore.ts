import type { Knex } from 'knex';
import { GraphQLError } from 'graphql';
import { readVerifiedBlob, type BlobLocator } from '../access/blobs.js';
import { Action, canSee, type CollectionRow } from '../access/policy.js';
import { visibleSeriesWhere } from '../browse/visibility.js';
import type { AccessControl } from '../access/AccessControl.js';
import { ForbiddenError, PayloadTooLargeError, StorageCorruptError, UnauthenticatedError } from '../errors.js';
import { BlobCorruptError, type VerifiedBlob } from '../storage/VerifiedReader.js';
import { NotFound } from './errors.js';
import { isUid } from '../dicom/index.js';

/** What a WADO-RS request names: a study, a series of it, or an instance of that. */
export interface Target { study: string; series?: string; instance?: string }

/** One stored instance under a target, with the identifiers metadata and URLs need. */
export interface InstanceRow {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  sha256: string;
  size: number;
  transferSyntaxUid: string;
  /** The DICOM JSON derived product (src/ingest/products/dicomJson.ts) in the derived-data cache; null when not made. */
  metadataSha256: string | null;
  /** Rows as catalogued: null for an instance that is no image (an SR, a key object selection). */
  rows: number | null;
  studyAccession: string;
  individualAccession: string;
  collectionAccession: string;
}

/** Instances one WADO-RS answer holds at most (a study of a few thousand instances fits). */
export const MAX_INSTANCES = 20_000;


/**
 * Finds the instances a WADO-RS path names and decides whether the caller may have them. A
 * target the caller cannot browse (absent, or hidden because unreleased) is 404, the same for
 * both, so an answer never confirms that something hidden exists; a target the caller can see
 * but whose pixels or files the policy keeps back (a controlled collection without an approved
 * request) is 401 to anonymous callers and 403 to signed-in ones, audited by the session.
 */
export class InstanceStore {
  constructor(private readonly knex: Knex, private readonly session: AccessControl, private readonly blobs: BlobLocator) {}

  async instances(target: Target, action: Action): Promise<InstanceRow[]> {
    for (const uid of [target.study, target.series, target.instance]) {
      if (uid !== undefined && !isUid(uid)) throw new NotFound('no such study, series or instance');
    }
    const qb = this.knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id')
      .join('individual as i', 'i.id', 's.individual_id').join('collection as c', 'c.id', 's.collection_id')
      .where('st.study_instance_uid', target.study);
    if (target.series) qb.where('s.uid', target.series);
    if (target.instance) qb.where('im.uid', target.instance);
    // Release means reviewed (issue 22): a series not yet passed is as absent as an unknown one.
    const visible = visibleSeriesWhere(this.session.user, 's');
    if (visible) visible(qb);
    const rows: any[] = await qb.select(
      'st.study_instance_uid as studyUid', 's.uid as seriesUid', 'im.uid as sopUid', 'im.sha256', 'im.size', 'im.transfer_syntax_uid as transferSyntaxUid', 'im.metadata_sha256 as metadataSha256', 'im.rows',
      'st.accession as studyAccession', 'i.accession as individualAccession', 'c.accession as collectionAccession',
      'c.id as collectionId', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState',
    ).orderBy('s.id').orderByRaw('im.instance_number is null, im.instance_number').orderBy('im.id').limit(MAX_INSTANCES + 1);
    if (rows.length > MAX_INSTANCES) throw new PayloadTooLargeError(`more than ${MAX_INSTANCES} instances: retrieve the study series by series`, MAX_INSTANCES);
    const first = rows[0];
    const collection: CollectionRow | null = first
      ? { id: Number(first.collectionId), accession: first.collectionAccession, submitter: first.submitter, accessibility: first.accessibility, releaseState: first.releaseState }
      : null;
    if (!collection || !canSee(this.session.user, collection)) throw new NotFound('no such study, series or instance');
    const label = `${target.instance ? 'instance' : target.series ? 'series' : 'study'} ${target.instance ?? target.series ?? target.study}`;
    try {
      await this.session.assertCan(action, collection, label);
    } catch (err) {
      if (err instanceof GraphQLError) throw this.session.user ? new ForbiddenError('you may not retrieve this') : new UnauthenticatedError('sign in to retrieve this');
      throw err;
    }
    return rows.map((r) => ({
      studyUid: r.studyUid, seriesUid: r.seriesUid, sopUid: r.sopUid, sha256: r.sha256, size: Number(r.size), transferSyntaxUid: r.transferSyntaxUid, metadataSha256: r.metadataSha256 ?? null, rows: r.rows == null ? null : Number(r.rows),
      studyAccession: r.studyAccession, individualAccession: r.individualAccession, collectionAccession: r.collectionAccession,
    }));
  }

  /** The stored bytes of an instance, verified (the backup serves, and repairs, a bad primary). */
  async read(row: InstanceRow): Promise<Buffer> {
    const bytes = await readVerifiedBlob(this.blobs, row.sha256).catch(corrupt);
    if (!bytes) throw new NotFound(NOT_HELD);
    return bytes;
  }

  /** The instance's file opened verified (hashed whole first; a verification stands for a while), to stream all or a byte range of. */
  async open(row: InstanceRow): Promise<VerifiedBlob> {
    const blob = await this.blobs.open(row.sha256).catch(corrupt);
    if (!blob) throw new NotFound(NOT_HELD);
    return blob;
  }

  /** Bytes `start .. start + length - 1` of the verified file. */
  async range(row: InstanceRow, start: number, length: number): Promise<Buffer> {
    const blob = await this.open(row);
    if (length === 0) { await blob.close(); return Buffer.alloc(0); }
    const chunks: Buffer[] = [];
    for await (const chunk of blob.stream({ start, end: start + length - 1 })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

const NOT_HELD = 'the instance is catalogued but its file is not held in storage';

function corrupt(err: unknown): never {
  throw err instanceof BlobCorruptError ? new StorageCorruptError() : err;
}
