import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/Principal.js';
import type { BrowseService } from '../browse/BrowseService.js';
import { FilterPredicates, type BrowseFilter } from '../browse/filter.js';
import type { Image } from '../entities/index.js';
import { hexToCode } from '../retrieval/code.js';
import { decodeImage } from '../retrieval/decode.js';
import type { SearchHit } from '../retrieval/HashIndex.js';
import type { HashCatalog } from './HashCatalog.js';
import type { QueryImages } from './QueryImages.js';
import { BadUserInputError } from '../errors.js';
import type { AccessControl } from '../access/AccessControl.js';
import { Accessibility } from '../domain.js';
import { Action, type CollectionRow } from '../access/policy.js';
import { collectionOf, lineageRows, toEntities, type Lineage, type LineageRow } from './lineage.js';

export const MAX_K = 1000;
/** Unfiltered neighbours checked against the filter before falling back to the full admissible set. */
const CANDIDATE_FACTOR = 4;
/** Uploaded query images are decoded in memory; 20 MB covers a large single-frame DICOM. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export interface ImageQuery { uid?: string | null; upload?: string | null; base64?: string | null }
export interface SimilarImage { image: Image; distance: number }

const badInput = (message: string, argument: string) => new BadUserInputError(message, argument);

/**
 * `similarImages`: the query image's 64-bit code, then exact top-k by Hamming distance over the
 * images this viewer may browse and the filter admits. Visibility and filters are the browse
 * predicates, evaluated once per query as the set of admissible series.
 */
export class SimilarImagesService {
  constructor(
    private readonly em: EntityManager,
    private readonly viewer: Principal | null,
    private readonly browse: BrowseService,
    private readonly catalog: HashCatalog,
    /** Codes of images uploaded to `POST /query-images`. */
    private readonly uploads: QueryImages | null = null,
    /** The request's authorization session: controlled pixels are ranked only for those who may view them. */
    private readonly session: AccessControl | null = null,
  ) {}

  /**
   * Of the collections `rows`, those whose images the caller may not view (controlled, no approval):
   * similarImages never ranks them (issue 22, point 5: a ranking leaks what the pixels look like).
   */
  private async withoutPixels(rows: Iterable<CollectionRow>): Promise<Set<number>> {
    const denied = new Set<number>();
    const seen = new Set<number>();
    for (const row of rows) {
      if (seen.has(row.id) || row.accessibility !== Accessibility.CONTROLLED) continue;
      seen.add(row.id);
      if (!this.session || !(await this.session.can(Action.VIEW_THUMBNAIL, row))) denied.add(row.id);
    }
    return denied;
  }

  async similar(query: ImageQuery, k: number, filter: BrowseFilter | null | undefined): Promise<{ hits: SimilarImage[]; lineage: Lineage }> {
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw badInput(`"k" must be between 1 and ${MAX_K}; got ${k}.`, 'k');
    const { code, excludeId } = await this.queryCode(query);
    const p = new FilterPredicates(filter, this.viewer);
    const { hits, rows } = await this.nearestAdmissible(code, k, excludeId, p);
    // The lineage a result list shows (series, study, individual, collection) came in the same
    // statement as the admissibility check; the resolver primes the request's loaders with it.
    const { images, lineage } = toEntities(this.em, hits.map((h) => rows.get(h.id)!));
    return { hits: hits.map((h, j) => ({ image: images[j]!, distance: h.distance })), lineage };
  }

  /**
   * The k nearest codes among the images this viewer may browse and the filter admits, with their
   * lineage rows. First the unfiltered nearest CANDIDATE_FACTOR·k: one statement reads those the
   * browse predicates admit, with their series, study, individual and collection; the admissible
   * ones, in ranking order, are exactly the first admissible ones of the whole ranking, so when k
   * of them are there the answer is complete. Only a narrow filter (most neighbours hidden) pays
   * for listing every admissible series and scanning with it (at 1.9 M codes the list is ~25,000
   * series, ~10 ms of database time), then reads the k found.
   */
  private async nearestAdmissible(code: bigint, k: number, excludeId: number | null, p: FilterPredicates): Promise<{ hits: SearchHit[]; rows: Map<number, LineageRow> }> {
    const n = CANDIDATE_FACTOR * k + (excludeId != null ? 1 : 0);
    const nearest = this.catalog.index.search(code, n);
    const candidates = nearest.filter((h) => h.id !== excludeId);
    const rows = await lineageRows(this.em, p, candidates.map((h) => h.id));
    const denied = await this.withoutPixels([...rows.values()].map(collectionOf));
    const hits = candidates.filter((h) => { const r = rows.get(h.id); return !!r && !denied.has(Number(r.c__id)); });
    // Fewer than n nearest: the index holds no more codes, so the filtered list is complete.
    if (hits.length >= k || nearest.length < n) return { hits: hits.slice(0, k), rows };

    const all: { id: number; cid: number }[] = await this.browse.seriesQuery(p).select('s.id', 's.collection_id as cid');
    const admissible = await this.admissibleOf(all);
    const found = this.catalog.index.search(code, k + (excludeId != null ? 1 : 0), (id) => id !== excludeId && admissible.has(this.catalog.seriesIdOf(id)));
    // The rows of what the scan found (a row gone since, e.g. a series unpublished meanwhile, drops out).
    const foundRows = await lineageRows(this.em, p, found.map((h) => h.id));
    return { hits: found.filter((h) => foundRows.has(h.id)).slice(0, k), rows: foundRows };
  }

  /** The series among `rows` whose pixels this viewer may see: controlled images are never ranked for anyone else (issue 22). */
  private async admissibleOf(rows: { id: number; cid: number }[]): Promise<Set<number>> {
    const ids = [...new Set(rows.map((r) => Number(r.cid)))];
    const collections: any[] = ids.length ? await this.em.getKnex()('collection as c').whereIn('c.id', ids).where('c.accessibility', Accessibility.CONTROLLED)
      .select('c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState') : [];
    const denied = await this.withoutPixels(collections.map((r) => ({ ...r, id: Number(r.id) })));
    return new Set(rows.filter((r) => !denied.has(Number(r.cid))).map((r) => Number(r.id)));
  }

  private async queryCode(query: ImageQuery): Promise<{ code: bigint; excludeId: number | null }> {
    const given = [query.uid, query.upload, query.base64].filter((v) => v != null && v !== '').length;
    if (given !== 1) throw badInput('Give exactly one of "uid" (an archived image) or "upload" (the id POST /query-images answered).', 'image');
    if (query.upload) {
      const code = query.upload.length <= 64 ? this.uploads?.get(query.upload, this.viewer?.id ?? null) : null;
      if (code == null) throw badInput('No uploaded query image by that id: it expired (ten minutes) or was uploaded by someone else.', 'image.upload');
      return { code, excludeId: null };
    }
    if (query.uid) {
      const image = await this.browse.imageByUid(query.uid);
      if (!image) throw badInput(`No image ${query.uid} is visible to you.`, 'image.uid');
      // Its code stands for its pixels: querying by it needs VIEW_PIXELS (refusals are audited).
      const c: any = await this.em.getKnex()('series as s').join('collection as c', 'c.id', 's.collection_id').where('s.id', image.series.id)
        .first('c.id', 'c.accession', 'c.submitter', 'c.accessibility', 'c.release_state as releaseState', 's.published');
      if (this.session) await this.session.assertCan(Action.VIEW_THUMBNAIL, { ...c, id: Number(c.id) }, `image ${query.uid}`);
      else if (c.accessibility !== Accessibility.OPEN) throw badInput(`No image ${query.uid} is visible to you.`, 'image.uid');
      const code = this.catalog.index.get(image.id) ?? (image.hashCode ? hexToCode(image.hashCode) : null);
      if (code == null) throw badInput(`Image ${query.uid} has not been hashed yet.`, 'image.uid');
      return { code, excludeId: image.id };
    }
    const b64 = query.base64!.replace(/^data:[^,]*,/, '');
    if (b64.length > Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 4) {
      throw badInput(`The uploaded image exceeds ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB.`, 'image.base64');
    }
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw badInput('"base64" is not base64-encoded data.', 'image.base64');
    const bytes = Buffer.from(b64, 'base64');
    let gray;
    try {
      gray = await decodeImage(bytes);
    } catch (err) {
      throw badInput(`The uploaded file is not a readable DICOM, PNG or JPEG image: ${(err as Error).message}`, 'image.base64');
    }
    return { code: await this.catalog.hashQueryImage(gray), excludeId: null };
  }
}
