import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { hasRole, Role, type Principal } from '../auth/Principal.js';
import { decodeCursor, MAX_PAGE_SIZE, pageSize, toPage, type Page, type PageArgs } from '../browse/pagination.js';
import { Accessibility, ReleaseState } from '../domain.js';
import { CollectionDataset, CollectionVersion, ImageTombstone } from '../entities/index.js';
import { IdentifierKind } from '../entities/CollectionVersion.js';
import { WITHHELD_FROM_ALL_VERSIONS, type WithdrawalReason } from '../entities/ImageTombstone.js';
import type { ReleaseManifestEntry } from '../entities/ReleaseManifestEntry.js';
import { ConflictError, QuotaExceededError } from '../errors.js';
import { lockEntityRow, lockRow } from '../db/transitions.js';
import { assertAccession } from '../accessions.js';
import { isUid } from '../dicom/index.js';
import { requireCurator } from '../qc/CurationService.js';
import { dataCiteAttributes, DataCiteError, mintDoi, versionIdentifier, type VersionFacts } from './datacite.js';
import { ManifestDigest, type ManifestFile } from './manifest.js';
import type { VersionSeriesRow } from './seriesCache.js';
import { ReleasesModule } from './module.js';
import { assertVersionNumber, badInput, notFound } from './versionId.js';

/** Thrown inside the version transaction when nothing changed since the last version (rolls it back). */
class Unchanged extends Error {}

/** Datasets one collection may be declared equivalent to (an unpaged field, `Collection.equivalentDatasets`). */
export const MAX_EQUIVALENT_DATASETS = 100;

const ENTRY_COLUMNS = ['sop_instance_uid', 'series_instance_uid', 'study_instance_uid', 'study_accession', 'individual_accession', 'modality', 'sha256', 'size'];

function toFile(r: any): ManifestFile {
  return {
    sopInstanceUid: r.sop_instance_uid, seriesInstanceUid: r.series_instance_uid, studyInstanceUid: r.study_instance_uid,
    studyAccession: r.study_accession, individualAccession: r.individual_accession, modality: r.modality ?? null,
    sha256: r.sha256, size: Number(r.size),
  };
}

/**
 * Collection versions (issue 19): every release cuts an immutable, numbered version with a
 * manifest of every image and its checksum; withdrawals leave tombstones and cut the next
 * version; each version carries DataCite metadata and, when DataCite credentials are
 * configured, a minted DOI.
 */
export class ReleaseService {
  private readonly module: ReleasesModule;

  constructor(private readonly em: EntityManager, private readonly user: Principal | null) {
    this.module = ReleasesModule.of(em);
  }

  private get knex(): Knex { return this.em.getKnex(); }

  /**
   * Cuts the next version of a released collection from the live catalogue, unless nothing
   * changed since the last one (then the last one is returned). What CurationService calls on
   * every release. The version and its manifest are written in one transaction; the DOI is
   * minted after it commits.
   */
  async cutVersion(collectionId: number, actor: string): Promise<CollectionVersion> {
    const knex = this.knex;
    const platform = this.em.getPlatform();
    const collection = await knex('collection').where('id', collectionId).first();
    if (!collection || collection.release_state !== ReleaseState.RELEASED) throw badInput('only a released collection has versions', 'collection');
    const datacite = this.module.config.datacite;
    let createdId: number | null = null;
    try {
      createdId = await knex.transaction(async (trx) => {
        // Cuts of one collection (two releases, or a release and a withdrawal, at once) take turns:
        // each reads the last version after the one before committed, so none draws the same number.
        await lockRow(trx, 'collection', collectionId);
        const last = await trx('collection_version').where('collection_id', collectionId).orderBy('number', 'desc').first();
        const number = (last?.number ?? 0) + 1;
        const releasedAt = new Date();
        const [id] = await trx('collection_version').insert({
          collection_id: collectionId, number, created_at: platform.processDateProperty(releasedAt), created_by: actor,
          image_count: 0, series_count: 0, total_size: 0, manifest_sha256: '', bundle_sha256: '', added_count: 0, withdrawn_count: 0,
          identifier_kind: IdentifierKind.LOCAL, identifier: '', data_cite: '{}',
        });
        const versionId = Number(id);
        // One INSERT … SELECT in hierarchy order: entry ids follow the manifest's order.
        await trx.into(trx.raw('?? (??, ??, ??, ??, ??, ??, ??, ??, ??)', ['release_manifest_entry', 'version_id', ...ENTRY_COLUMNS])).insert(
          trx('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id').join('individual as i', 'i.id', 's.individual_id')
            // Release means reviewed (issue 22): a version holds only the series a curator has passed.
            .where('s.collection_id', collectionId).where('s.published', true)
            .select(trx.raw('?', [versionId]), 'im.uid', 's.uid', 'st.study_instance_uid', 'st.accession', 'i.accession', 's.modality', 'im.sha256', 'im.size')
            .orderBy([{ column: 'i.accession' }, { column: 'st.accession' }, { column: 's.uid' }, { column: 'im.uid' }]),
        );
        const digest = new ManifestDigest(collection.accession);
        const series = new Set<string>();
        for (let after = 0; ;) {
          const rows = await trx('release_manifest_entry').where('version_id', versionId).where('id', '>', after).orderBy('id').limit(5000).select('id', ...ENTRY_COLUMNS);
          for (const r of rows) { digest.add(toFile(r)); series.add(r.series_instance_uid); }
          if (rows.length < 5000) break;
          after = Number(rows[rows.length - 1].id);
        }
        // Only images an earlier version held leave a tombstone in the versions: one never released (a
        // series not yet passed) is no hole in any, and its tombstone (UIDs, the curator's note) would
        // publish what was never reviewed, and cut a version for it.
        const wasReleased = (table: string) => trx('release_manifest_entry as e').join('collection_version as v', 'v.id', 'e.version_id')
          .where('v.collection_id', collectionId).where('v.id', '<>', versionId).whereRaw(`e.sop_instance_uid = ${table}.sop_instance_uid`).select(trx.raw('1'));
        const tombstones = await trx('image_tombstone').where('collection_id', collectionId).whereExists(wasReleased('image_tombstone'))
          .select('sop_instance_uid as sopInstanceUid', 'reason', 'first_absent_from');
        const { manifestSha256, bundleSha256 } = digest.finish(tombstones);
        if (last && last.manifest_sha256 === manifestSha256) throw new Unchanged();
        const added = last
          ? Number((await trx('release_manifest_entry as e').where('e.version_id', versionId)
            .whereNotExists(trx('release_manifest_entry as p').where('p.version_id', last.id).whereRaw('p.sop_instance_uid = e.sop_instance_uid').select(trx.raw('1')))
            .count({ n: '*' }).first())?.n ?? 0)
          : digest.count;
        const withdrawn = tombstones.filter((t: any) => t.first_absent_from == null).length;
        await trx('image_tombstone').where('collection_id', collectionId).whereNull('first_absent_from').whereExists(wasReleased('image_tombstone')).update({ first_absent_from: number });
        const submitter = await trx('user_account').where('sub', collection.submitter).first('name', 'institution');
        const kind = datacite ? 'DOI' : 'LOCAL';
        const identifier = versionIdentifier(collection.accession, number, datacite);
        const facts: VersionFacts = {
          accession: collection.accession, number, title: collection.title, description: collection.description ?? '',
          keywords: typeof collection.keywords === 'string' ? JSON.parse(collection.keywords) : collection.keywords ?? [],
          disease: collection.disease, accessibility: collection.accessibility, bioProjectAccession: collection.bio_project_accession ?? null,
          submitter: { sub: collection.submitter, name: submitter?.name ?? null, institution: submitter?.institution ?? null },
          submitterOrganization: collection.submitter_organization ?? null, publisher: this.module.config.publisher,
          releasedAt, imageCount: digest.count, totalSize: digest.totalSize, landingUrl: this.module.landingUrl(collection.accession, number),
          previous: last ? { identifier: last.identifier, kind: last.identifier_kind === IdentifierKind.DOI ? 'DOI' : 'LOCAL' } : null,
        };
        await trx('collection_version').where('id', versionId).update({
          image_count: digest.count, series_count: series.size, total_size: digest.totalSize, manifest_sha256: manifestSha256, bundle_sha256: bundleSha256,
          added_count: added, withdrawn_count: withdrawn,
          identifier_kind: datacite ? IdentifierKind.MINT_PENDING : IdentifierKind.LOCAL, identifier,
          data_cite: JSON.stringify(dataCiteAttributes(facts, identifier, kind)),
        });
        return versionId;
      });
    } catch (err) {
      if (!(err instanceof Unchanged)) throw err;
    }
    const version = createdId
      ? await this.em.findOneOrFail(CollectionVersion, { id: createdId }, { refresh: true })
      : await this.em.findOneOrFail(CollectionVersion, { collection: collectionId }, { orderBy: { number: 'desc' } });
    if (createdId) {
      this.module.log.info({ collection: collection.accession, version: version.number, images: version.imageCount }, 'collection version cut');
      if (datacite) await this.mint(version);
    }
    return version;
  }

  /**
   * Registers a version's DOI at DataCite. A failure is logged and leaves the version
   * MINT_PENDING (shown as such, never as a DOI) for `mintVersionDoi` to retry. Requests that
   * ask at once share one registration (ReleasesModule.minting), and each answers with the
   * version as the registration left it, whichever request (or hub) made it.
   */
  private async mint(version: CollectionVersion): Promise<void> {
    const datacite = this.module.config.datacite;
    if (!datacite || version.identifierKind !== IdentifierKind.MINT_PENDING) return;
    let registration = this.module.minting.get(version.id);
    if (!registration) {
      registration = this.register(datacite, version).finally(() => this.module.minting.delete(version.id));
      this.module.minting.set(version.id, registration);
    }
    await registration;
    await this.em.refresh(version, { connectionType: 'write' });
  }

  private async register(datacite: NonNullable<ReleasesModule['config']['datacite']>, version: CollectionVersion): Promise<void> {
    try {
      const doi = await mintDoi(datacite, version.identifier, version.dataCite);
      // DataCite may normalise the DOI's case: what it registered is what the version shows.
      const dataCite = { ...version.dataCite, doi, identifiers: [{ identifier: doi, identifierType: 'DOI' }] };
      // Only over MINT_PENDING: a registration another hub finished first stands as it wrote it.
      await this.knex('collection_version').where('id', version.id).where('identifier_kind', IdentifierKind.MINT_PENDING)
        .update({ identifier_kind: IdentifierKind.DOI, identifier: doi, data_cite: JSON.stringify(dataCite) });
    } catch (err) {
      if (!(err instanceof DataCiteError)) throw err;
      this.module.log.warn({ err, version: version.id }, 'DOI minting failed; the version stays MINT_PENDING');
    }
  }

  /** Curators retry minting a version's DOI after a failure. */
  async retryMint(accession: string, number: number): Promise<CollectionVersion> {
    requireCurator(this.user);
    assertAccession('collection', accession);
    assertVersionNumber(number);
    const version = await this.versionOf(accession, number);
    if (!version) throw notFound(`no version ${number} of ${accession}`);
    if (!this.module.config.datacite) throw badInput('no DataCite credentials are configured: versions carry local identifiers', 'number');
    await this.mint(version);
    return version;
  }

  /**
   * Newest first, `first` at a time before version `before`: every withdrawal cuts a version, so a
   * collection's versions (each with its DataCite metadata) grow with its curation, and the public
   * field answered every one of them.
   */
  async versions(collectionId: number, first = MAX_PAGE_SIZE, before: number | null = null): Promise<CollectionVersion[]> {
    const size = pageSize(first);
    if (before !== null) assertVersionNumber(before, 'before');
    return this.em.find(CollectionVersion, { collection: collectionId, ...(before !== null ? { number: { $lt: before } } : {}) }, { orderBy: { number: 'desc' }, limit: size });
  }

  async version(collectionId: number, number: number): Promise<CollectionVersion | null> {
    assertVersionNumber(number);
    return this.em.findOne(CollectionVersion, { collection: collectionId, number });
  }

  async versionOf(accession: string, number: number): Promise<CollectionVersion | null> {
    return this.em.findOne(CollectionVersion, { collection: { accession }, number }, { populate: ['collection'] });
  }

  /** A page of a version's files, in manifest order. */
  async files(version: CollectionVersion, args: PageArgs & { series?: string | null }): Promise<Page<ReleaseManifestEntry & { id: number }>> {
    const size = pageSize(args.first);
    const afterId = decodeCursor('versionFile', args.after);
    const base = () => {
      const q = this.knex('release_manifest_entry').where('version_id', version.id);
      if (args.series) q.where('series_instance_uid', args.series);
      return q;
    };
    const rows = await base().where('id', '>', afterId).orderBy('id').limit(size + 1).select('id', ...ENTRY_COLUMNS);
    const nodes = rows.map((r: any) => ({ id: Number(r.id), ...toFile(r) })) as any[];
    return toPage('versionFile', nodes, size, afterId, async () => args.series
      ? Number((await base().count({ n: '*' }).first())?.n ?? 0)
      : version.imageCount);
  }

  /** The series a version holds, with their image counts. */
  async series(version: CollectionVersion): Promise<VersionSeriesRow[]> {
    return this.module.versionSeries.get(version.id, () => this.readSeries(version));
  }

  private async readSeries(version: CollectionVersion): Promise<VersionSeriesRow[]> {
    const rows = await this.knex('release_manifest_entry').where('version_id', version.id)
      .groupBy('series_instance_uid', 'study_accession', 'individual_accession', 'modality')
      .select('series_instance_uid', 'study_accession', 'individual_accession', 'modality').count({ n: '*' })
      .orderBy([{ column: 'individual_accession' }, { column: 'study_accession' }, { column: 'series_instance_uid' }]);
    return rows.map((r: any) => ({ seriesInstanceUid: r.series_instance_uid, studyAccession: r.study_accession, individualAccession: r.individual_accession, modality: r.modality ?? null, imageCount: Number(r.n) }));
  }

  /**
   * Images withdrawn before (or in) this version, and those withheld from every version
   * (identifiable information): what it lists instead of silent holes.
   */
  async tombstones(version: CollectionVersion, first = MAX_PAGE_SIZE, after: string | null = null): Promise<ImageTombstone[]> {
    // `first` at a time, in UID order after `after`: a collection's withdrawals have no bound of their own.
    const size = pageSize(first);
    return this.em.find(ImageTombstone, {
      collection: version.collection.id,
      ...(after !== null ? { sopInstanceUid: { $gt: after } } : {}),
      // A tombstone without firstAbsentFrom is of an image no version held (cutVersion): listed by none.
      $or: [{ firstAbsentFrom: { $lte: version.number } }, { reason: { $in: [...WITHHELD_FROM_ALL_VERSIONS] }, firstAbsentFrom: { $ne: null } }],
    }, { orderBy: { sopInstanceUid: 'asc' }, limit: size });
  }

  /**
   * Withdraws an image (IOCM-style): its catalogue row goes, a tombstone with the reason stays,
   * and a released collection gets its next version at once. Earlier versions keep the image in
   * their manifests and the bytes in storage, so they stay downloadable as released.
   */
  async withdrawImage(uid: string, reason: WithdrawalReason, note: string): Promise<ImageTombstone> {
    const curator = requireCurator(this.user);
    if (!isUid(uid)) throw badInput('uid is not a DICOM UID (dot-separated numbers, at most 64 characters)', 'uid');
    if (!note.trim()) throw badInput('say why the image is withdrawn', 'note');
    const row = await this.knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id')
      .join('individual as i', 'i.id', 's.individual_id').join('collection as c', 'c.id', 's.collection_id').where('im.uid', uid)
      .first('im.id', 'im.sha256', 'im.size', 's.id as seriesId', 's.uid as seriesUid', 'st.accession as study', 'i.accession as individual', 'c.id as collectionId', 'c.release_state as releaseState');
    if (!row) throw notFound(`no image ${uid}`);
    const platform = this.em.getPlatform();
    await this.knex.transaction(async (trx) => {
      // After any version being cut (whose manifest reads this image's and series' rows), not
      // across it: the two would otherwise wait on each other's rows. Then the image's row goes
      // in one statement: of withdrawals sent together one deletes it, and the others leave no
      // second tombstone (nor a second decrement of the series' count).
      await lockRow(trx, 'collection', Number(row.collectionId));
      if (!(await trx('image').where('id', row.id).del())) throw new ConflictError(`image ${uid} was withdrawn by another request meanwhile`);
      await trx('image_tombstone').insert({
        collection_id: row.collectionId, sop_instance_uid: uid, series_instance_uid: row.seriesUid, study_accession: row.study, individual_accession: row.individual,
        sha256: row.sha256, size: row.size, reason, note: note.trim(), withdrawn_by: curator.id, withdrawn_at: platform.processDateProperty(new Date()),
      });
      await trx('series').where('id', row.seriesId).decrement('image_count', 1);
    });
    this.module.hashCatalog?.remove(Number(row.id));
    if (row.releaseState === ReleaseState.RELEASED) await this.cutVersion(Number(row.collectionId), curator.id);
    return this.em.findOneOrFail(ImageTombstone, { sopInstanceUid: uid }, { refresh: true });
  }

  /**
   * Declares a dataset at another repository equivalent to a controlled collection, so that a
   * ControlledAccessGrants visa for it grants the collection's files. Its submitter or a curator.
   */
  async declareEquivalentDataset(accession: string, datasetId: string, repository: string): Promise<CollectionDataset> {
    if (!this.user) requireCurator(this.user);
    assertAccession('collection', accession);
    const collection = await this.knex('collection').where('accession', accession).first('id', 'submitter', 'accessibility');
    const mayDeclare = !!collection && (collection.submitter === this.user!.id || hasRole(this.user, Role.CURATOR, Role.ADMIN));
    if (!mayDeclare) throw notFound(`no collection ${accession} you may declare datasets for`);
    if (collection.accessibility !== Accessibility.CONTROLLED) throw badInput('only a controlled collection is granted by visas; open collections need none', 'collection');
    const id = datasetId.trim();
    if (!/^\S{3,255}$/.test(id)) throw badInput('a dataset id is 3 to 255 characters without spaces (an accession such as HRA000001 or phs000001.v1.p1, or a URL)', 'dataset');
    // Under the collection's row lock: the same dataset sent twice at once is declared once (the
    // unique key would refuse the second as an internal error), and a burst cannot pass the bound.
    return this.em.transactional(async (tx) => {
      await lockEntityRow(tx, 'collection', collection.id);
      const existing = await tx.findOne(CollectionDataset, { collection: collection.id, datasetId: id });
      if (existing) return existing;
      const held = await tx.count(CollectionDataset, { collection: collection.id });
      if (held >= MAX_EQUIVALENT_DATASETS) throw new QuotaExceededError(`The collection is declared equivalent to ${held} datasets, the most it may be.`, MAX_EQUIVALENT_DATASETS);
      return tx.create(CollectionDataset, { collection: collection.id, datasetId: id, repository: repository.trim() || 'unspecified', declaredBy: this.user!.id, declaredAt: new Date() });
    });
  }

  async datasetsOf(collectionId: number): Promise<CollectionDataset[]> {
    return this.em.find(CollectionDataset, { collection: collectionId }, { orderBy: { id: 'asc' } });
  }
}

/** What CurationService calls when a collection is released (or released again after changes). */
export async function versionRelease(em: EntityManager, collectionId: number, actor: Principal): Promise<CollectionVersion> {
  await em.flush();
  return new ReleaseService(em, actor).cutVersion(collectionId, actor.id);
}
