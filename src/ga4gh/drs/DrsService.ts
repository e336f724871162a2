import crypto from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { AccessControl } from '../../access/AccessControl.js';
import { DownloadService } from '../../access/DownloadService.js';
import { canSee, type CollectionRow } from '../../access/policy.js';
import type { Principal } from '../../auth/Principal.js';
import { Accessibility } from '../../domain.js';
import { WITHHELD_FROM_ALL_VERSIONS } from '../../entities/ImageTombstone.js';
import { ReleasesModule } from '../../releases/module.js';
import { parseVersionId, versionId } from '../../releases/versionId.js';
import type { TargetKind } from '../../access/links.js';
import { DrsError, fromPolicy, notFound } from './errors.js';
import { DRS_ID, drsUri, UID } from './ids.js';

/** The one access method every object offers: a signed, expiring https URL from the archive's download links. */
export const HTTPS_ACCESS_ID = 'https';

/** Bundle contents read from the database, and written, at a time. */
export const CONTENTS_BATCH = 1000;

/**
 * A bundle's sha-256 digests packed 32 bytes each, for the DRS bundle checksum (the sha-256 of the
 * sorted concatenation of the hex digests; byte order sorts as lower-case hex does).
 */
class PackedDigests {
  private bytes = Buffer.alloc(32 * 1024);
  count = 0;

  add(hex: string): void {
    if (32 * (this.count + 1) > this.bytes.length) {
      const grown = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    this.bytes.write(hex.toLowerCase(), 32 * this.count, 32, 'hex');
    this.count++;
  }

  bundleChecksum(): string {
    const at = (i: number) => this.bytes.subarray(32 * i, 32 * i + 32);
    const order = Uint32Array.from({ length: this.count }, (_, i) => i).sort((a, b) => Buffer.compare(at(a), at(b)));
    const hash = crypto.createHash('sha256');
    for (const i of order) hash.update(at(i).toString('hex'));
    return hash.digest('hex');
  }
}

const COLLECTION = ['c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState', 'c.released_at as releasedAt', 'c.created_at as createdAt'];

type Resolved =
  | { kind: 'image'; id: string; collection: CollectionRow & { releasedAt: any; createdAt: any }; sha256: string; size: number; series: string; link: { kind: TargetKind; id: string }; withdrawn: string | null; withheld: boolean }
  | { kind: 'series'; id: string; collection: CollectionRow & { releasedAt: any; createdAt: any } }
  | { kind: 'version'; id: string; collection: CollectionRow & { releasedAt: any; createdAt: any }; version: any };

function collectionRow(r: any): any {
  return { id: Number(r.id), accession: r.accession, submitter: r.submitter, accessibility: r.accessibility, releaseState: r.releaseState, releasedAt: r.releasedAt, createdAt: r.createdAt };
}

function iso(value: any): string {
  const d = value instanceof Date ? value : new Date(typeof value === 'string' && !/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? `${value.replace(' ', 'T')}Z` : value);
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

/**
 * GA4GH DRS 1.4 objects over the archive: images are blobs, series and collection versions are
 * bundles. Metadata is shown to whoever browse shows the collection to (hidden = absent: 404);
 * bytes go through the archive's signed download links and its policy (open data: any signed-in
 * user; controlled: an approved request or a passport visa).
 */
export class DrsService {
  readonly control: AccessControl;
  private readonly downloads: DownloadService;
  private readonly releases: ReleasesModule;

  constructor(private readonly em: EntityManager, readonly user: Principal | null) {
    this.releases = ReleasesModule.of(em);
    this.control = new AccessControl(em, user, this.releases.access.now);
    this.downloads = new DownloadService(em, this.control, this.releases.access.signer, () => this.releases.baseUrl);
  }

  get host(): string { return this.releases.drsHost; }

  static assertId(id: unknown): string {
    if (typeof id !== 'string' || !DRS_ID.test(id)) throw new DrsError(400, 'malformed object id: a DRS id is 1-128 of [A-Za-z0-9._~-]');
    return id;
  }

  /** What an id names, if the caller may see it; 404 otherwise (absent and hidden read the same). */
  async resolve(rawId: unknown): Promise<Resolved> {
    const id = DrsService.assertId(rawId);
    const knex = this.em.getKnex();
    let found: Resolved | null = null;
    const version = parseVersionId(id);
    if (version) {
      const row = await knex('collection_version as v').join('collection as c', 'c.id', 'v.collection_id')
        .where('c.accession', version.accession).where('v.number', version.number)
        .first(...COLLECTION, 'v.id as versionId', 'v.number', 'v.image_count as imageCount', 'v.total_size as totalSize', 'v.bundle_sha256 as bundleSha256',
          'v.created_at as versionCreatedAt', 'v.identifier', 'v.identifier_kind as identifierKind');
      if (row) found = { kind: 'version', id, collection: collectionRow(row), version: row };
    } else if (UID.test(id)) {
      const image = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('collection as c', 'c.id', 's.collection_id')
        .where('im.uid', id).first(...COLLECTION, 'im.sha256', 'im.size', 's.uid as seriesUid');
      if (image) {
        found = { kind: 'image', id, collection: collectionRow(image), sha256: image.sha256, size: Number(image.size), series: image.seriesUid, link: { kind: 'series', id: image.seriesUid }, withdrawn: null, withheld: false };
      } else {
        const series = await knex('series as s').join('collection as c', 'c.id', 's.collection_id').where('s.uid', id).first(...COLLECTION);
        if (series) found = { kind: 'series', id, collection: collectionRow(series) };
        else {
          // A withdrawn image stays resolvable through the versions that hold it.
          const entry = await knex('release_manifest_entry as e').join('collection_version as v', 'v.id', 'e.version_id').join('collection as c', 'c.id', 'v.collection_id')
            .leftJoin('image_tombstone as t', 't.sop_instance_uid', 'e.sop_instance_uid')
            .where('e.sop_instance_uid', id).orderBy('v.id', 'desc')
            .first(...COLLECTION, 'e.sha256', 'e.size', 'e.series_instance_uid as seriesUid', 'v.number', 't.reason', 't.note');
          if (entry) {
            found = {
              kind: 'image', id, collection: collectionRow(entry), sha256: entry.sha256, size: Number(entry.size), series: entry.seriesUid,
              link: { kind: 'version', id: versionId(entry.accession, entry.number) }, withdrawn: entry.reason ? `${entry.reason}: ${entry.note}` : null,
              withheld: WITHHELD_FROM_ALL_VERSIONS.includes(entry.reason),
            };
          }
        }
      }
    }
    if (!found || !canSee(this.user, found.collection)) throw notFound();
    return found;
  }

  private accessMethod(r: Resolved) {
    return { type: 'https', access_id: HTTPS_ACCESS_ID, authorizations: this.authorizationsOf(r) };
  }

  /** How the `/access` call on an object is authorised (DRS `Authorizations`). */
  authorizationsOf(r: Resolved) {
    const controlled = r.collection.accessibility === Accessibility.CONTROLLED;
    const passportIssuers = this.releases.passportIssuers;
    return {
      drs_object_id: r.id,
      supported_types: controlled && passportIssuers.length ? ['BearerAuth', 'PassportAuth'] : ['BearerAuth'],
      ...(controlled && passportIssuers.length ? { passport_auth_issuers: passportIssuers } : {}),
      bearer_auth_issuers: this.releases.bearerIssuers,
    };
  }

  /**
   * The DrsObject for an id, whole: for bulk answers. A bundle's contents are counted before a
   * row is read and refused (413) past `maxContents`, so no more is built than the caller may have
   * (a version of a million images was read and built, 190 MB, before the bulk bound refused it).
   * A single object is answered by `objectStream`, which holds one batch at a time.
   */
  async object(rawId: unknown, expand = false, maxContents = Infinity): Promise<Record<string, any>> {
    const answer = await this.objectStream(rawId, expand);
    if (!answer.contents) return answer.head;
    if (answer.count > maxContents) throw new DrsError(413, `${answer.head.id} lists ${answer.count} objects, more than ${maxContents} may be listed here: ask for it alone with GET /objects/${answer.head.id}, which streams its contents`);
    const contents: Record<string, any>[] = [];
    for await (const batch of answer.contents) contents.push(...batch);
    return { ...answer.head, contents };
  }

  /**
   * The DrsObject for an id with a bundle's `contents` apart, as batches read one at a time by key
   * (CONTENTS_BATCH rows): a collection version of 100,000 images is about 19 MB of contents, and
   * it was read, built and held whole (twice while serialised) for every caller who asked, anonymous
   * included. Size and checksum come first: a version's were stored when it was cut; a series' are
   * summed from its images' digests (32 bytes an image, not the rows).
   *
   * `expand`: the archive's bundles hold only blobs, so the full listing and the direct children
   * are the same list (DRS 1.4 `expand`); the contents are listed either way.
   */
  async objectStream(rawId: unknown, expand = false): Promise<{ head: Record<string, any>; count: number; contents?: AsyncIterable<Record<string, any>[]> }> {
    void expand;
    const r = await this.resolve(rawId);
    const knex = this.em.getKnex();
    const created = iso(r.collection.releasedAt ?? r.collection.createdAt);
    const self = drsUri(this.host, r.id);
    if (r.kind === 'image') {
      return {
        count: 0,
        head: {
          id: r.id, name: `${r.id}.dcm`, self_uri: self, size: r.size, created_time: created,
          checksums: [{ checksum: r.sha256, type: 'sha-256' }], mime_type: 'application/dicom',
          access_methods: [this.accessMethod(r)],
          description: r.withdrawn
            ? `DICOM SOP instance of series ${r.series} in ${r.collection.accession}, withdrawn (${r.withdrawn}); kept for the versions that hold it`
            : `DICOM SOP instance of series ${r.series} in ${r.collection.accession}`,
          aliases: [`${r.collection.accession}/${r.series}/${r.id}`],
        },
      };
    }
    const host = this.host;
    const page = r.kind === 'series'
      ? async (after: number) => knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.uid', r.id).where('im.id', '>', after)
        .orderBy('im.id').limit(CONTENTS_BATCH).select('im.id', 'im.uid', 'im.sha256', 'im.size')
      : async (after: number) => knex('release_manifest_entry').where('version_id', r.version.versionId).where('id', '>', after)
        .orderBy('id').limit(CONTENTS_BATCH).select('id', 'sop_instance_uid as uid', 'sha256', 'size');
    const rows = async function* () {
      for (let after = 0; ;) {
        const batch: { id: number; uid: string; sha256: string; size: number }[] = await page(after);
        if (batch.length) yield batch;
        if (batch.length < CONTENTS_BATCH) return;
        after = Number(batch[batch.length - 1]!.id);
      }
    };
    let count: number; let size: number; let checksum: string;
    if (r.kind === 'version') {
      count = Number(r.version.imageCount); size = Number(r.version.totalSize); checksum = r.version.bundleSha256;
    } else {
      const digests = new PackedDigests();
      size = 0;
      for await (const batch of rows()) for (const f of batch) { digests.add(f.sha256); size += Number(f.size); }
      count = digests.count;
      checksum = digests.bundleChecksum();
    }
    const contents = (async function* () {
      for await (const batch of rows()) yield batch.map((f) => ({ name: `${f.uid}.dcm`, id: f.uid, drs_uri: [drsUri(host, f.uid)] }));
    })();
    const base = {
      id: r.id, name: r.id, self_uri: self, size, checksums: [{ checksum, type: 'sha-256' }],
      mime_type: 'application/zip', access_methods: [this.accessMethod(r)],
    };
    if (r.kind === 'series') {
      return { count, contents, head: { ...base, created_time: created, description: `DICOM series ${r.id} of ${r.collection.accession} (${count} images, as the archive holds it now)` } };
    }
    const v = r.version;
    return {
      count, contents,
      head: {
        ...base, created_time: iso(v.versionCreatedAt), updated_time: iso(v.versionCreatedAt), version: `v${v.number}`,
        description: `Version ${v.number} of collection ${r.collection.accession}, immutable (${v.imageCount} images)`,
        aliases: [v.identifier],
      },
    };
  }

  /**
   * A signed, expiring URL for the object's bytes (the archive's own download link), with the
   * header the download route needs: the credential the caller presented here.
   */
  async accessUrl(rawId: unknown, accessId: string, credential: string | null): Promise<{ url: string; headers?: string[] }> {
    const r = await this.resolve(rawId);
    if (accessId !== HTTPS_ACCESS_ID) throw new DrsError(404, `no access method ${accessId} for this object (use "${HTTPS_ACCESS_ID}")`);
    if (r.kind === 'image' && r.withheld) throw new DrsError(404, 'this image was withdrawn for identifiable information; its bytes are no longer served');
    let link: { url: string };
    try {
      link = r.kind === 'image' ? await this.downloads.createLinkFor(r.link.kind, r.link.id, r.id)
        : await this.downloads.createLinkFor(r.kind, r.id);
    } catch (err) {
      throw fromPolicy(err);
    }
    return { url: link.url, ...(credential ? { headers: [`Authorization: Bearer ${credential}`] } : {}) };
  }
}
