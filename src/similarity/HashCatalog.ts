import type { EntityManager } from '@mikro-orm/knex';
import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../errors.js';
import { pubSub, Topic, type HashCodesChanged } from '../events/pubsub.js';
import { logger } from '../log.js';
import { codeToHex, hexToCode } from '../retrieval/code.js';
import { HashIndex } from '../retrieval/HashIndex.js';
import { DEFAULT_MODEL_PATH, HashModel } from '../retrieval/HashModel.js';
import { ModelIntegrityError } from '../retrieval/modelFile.js';
import type { Gray8Image } from '../retrieval/preprocess.js';

/**
 * The archive's Hamming index plus what filtering needs to know about each entry (its series),
 * rebuilt from the hash codes stored on Image at start-up and kept current as images are
 * stored or removed. The model is loaded on first use: a browse-only server never pays for it.
 *
 * Shared (several hub replicas, events through Redis): what this replica adds or removes is
 * published on Topic.HASH_CODES, batched for a few milliseconds, and every other replica's
 * catalog applies it, so a code stored anywhere is searchable everywhere well within a second.
 */
export class HashCatalog {
  readonly index = new HashIndex(1 << 16);
  /** seriesOf[imageId] = series id; ids are dense auto-increment keys. */
  private seriesOf = new Int32Array(1 << 16);
  private model: Promise<HashModel> | null = null;
  /**
   * The model file: the shipped one unless a test points elsewhere before first use. Wherever it
   * lies, it must be the pinned obia-hash64 (src/retrieval/modelFile.ts): the codes this index
   * already holds were made by exactly that model.
   */
  modelPath = DEFAULT_MODEL_PATH;
  /** Who this replica is on Topic.HASH_CODES (its own changes come back from Redis: ignored). */
  private readonly origin = randomUUID();
  private sharing: { iterator: AsyncIterator<HashCodesChanged>; outbox: HashCodesChanged | null; timer: NodeJS.Timeout | null } | null = null;

  /**
   * Reads every stored code. With `share`, listens to other replicas first, so a code stored
   * elsewhere while the pages are read is not missed (adding twice is harmless).
   */
  static async load(em: EntityManager, batch = 50_000, options: { share?: boolean } = {}): Promise<HashCatalog> {
    const catalog = new HashCatalog();
    if (options.share) catalog.share();
    const knex = em.getKnex();
    let after = 0;
    for (;;) {
      // Keyset pages keep memory flat and avoid OFFSET rescans at 1.9 M rows.
      const rows: { id: number; series_id: number; hash_code: string }[] = await knex('image')
        .select('id', 'series_id', 'hash_code').whereNotNull('hash_code').where('id', '>', after).orderBy('id').limit(batch);
      if (!rows.length) break;
      for (const r of rows) catalog.apply(Number(r.id), Number(r.series_id), hexToCode(r.hash_code));
      after = Number(rows[rows.length - 1]!.id);
    }
    return catalog;
  }

  add(imageId: number, seriesId: number, code: bigint): void {
    if (imageId >= this.seriesOf.length) {
      const grown = new Int32Array(Math.max(imageId + 1, this.seriesOf.length * 2));
      grown.set(this.seriesOf);
      this.seriesOf = grown;
    }
    this.seriesOf[imageId] = seriesId;
    this.index.add(imageId, code);
    this.outbox()?.added.push([imageId, seriesId, codeToHex(code)]);
  }

  remove(imageId: number): void {
    this.index.remove(imageId);
    this.outbox()?.removed.push(imageId);
  }

  /** Entries held (the `obia_hash_index_size` metric). */
  get size(): number {
    return this.index.size;
  }

  /**
   * Starts exchanging changes with the other replicas' catalogs (see the class comment).
   * `listen: false` only publishes: an ingest worker (src/jobs) tells the hubs of the codes it
   * stores and answers no queries, so it holds none of theirs.
   */
  share(options: { listen?: boolean } = {}): void {
    if (this.sharing) return;
    if (options.listen === false) {
      this.sharing = { iterator: { next: async () => ({ done: true, value: undefined }) }, outbox: null, timer: null };
      return;
    }
    const iterator = pubSub.subscribe(Topic.HASH_CODES)[Symbol.asyncIterator]() as AsyncIterator<HashCodesChanged>;
    this.sharing = { iterator, outbox: null, timer: null };
    const apply = (r: IteratorResult<HashCodesChanged>): unknown => {
      if (r.done) return undefined;
      const change = r.value;
      if (change.origin !== this.origin) {
        for (const [imageId, seriesId, hex] of change.added) this.apply(imageId, seriesId, hexToCode(hex));
        for (const imageId of change.removed) this.index.remove(imageId);
      }
      return this.sharing?.iterator === iterator ? iterator.next().then(apply) : undefined;
    };
    // The first next() is what subscribes (the iterator is lazy).
    void iterator.next().then(apply);
  }

  /** Publishes what is queued, stops listening and ends the model's thread. */
  async close(): Promise<void> {
    const model = this.model;
    this.model = null;
    await model?.then((m) => m.close(), () => {});
    const sharing = this.sharing;
    if (!sharing) return;
    this.flush();
    this.sharing = null;
    await sharing.iterator.return?.();
  }

  /** Adds without publishing: a change another replica made, or what the database already holds. */
  private apply(imageId: number, seriesId: number, code: bigint): void {
    const sharing = this.sharing;
    this.sharing = null;
    try { this.add(imageId, seriesId, code); } finally { this.sharing = sharing; }
  }

  private outbox(): HashCodesChanged | null {
    const sharing = this.sharing;
    if (!sharing) return null;
    // Bounded messages when a whole archive is seeded at once.
    if (sharing.outbox && sharing.outbox.added.length + sharing.outbox.removed.length >= 4096) this.flush();
    if (!sharing.outbox) {
      sharing.outbox = { origin: this.origin, added: [], removed: [] };
      // One message per burst (an ingest batch stores tens of images at once), not one per image.
      sharing.timer = setTimeout(() => this.flush(), 20);
    }
    return sharing.outbox;
  }

  private flush(): void {
    const sharing = this.sharing;
    if (!sharing?.outbox) return;
    if (sharing.timer) clearTimeout(sharing.timer);
    pubSub.publish(Topic.HASH_CODES, sharing.outbox);
    sharing.outbox = null;
    sharing.timer = null;
  }

  seriesIdOf(imageId: number): number {
    return this.seriesOf[imageId] ?? 0;
  }

  /**
   * The pinned model (ingest's hashCode product; query images through `hashQueryImage`). A file
   * that is not the pinned one is refused (ModelIntegrityError), logged as an error each time, and
   * not remembered: the next use reads the file again, so restoring it heals the server without a
   * restart, while no code is ever made by the wrong model.
   */
  hashModel(): Promise<HashModel> {
    if (!this.model) {
      // Off the event loop: an ingest batch's inference would otherwise stall every request for tens of ms.
      const loading = HashModel.load(this.modelPath, { offThread: true, pin: 'obia-hash64' });
      loading.catch((err) => {
        if (this.model === loading) this.model = null;
        logger.error({ err, file: this.modelPath }, err instanceof ModelIntegrityError
          ? 'hash model refused: the file is not the pinned model; no image gets a code until it is restored'
          : 'hash model not loaded');
      });
      this.model = loading;
    }
    return this.model;
  }

  /**
   * An uploaded query image's code (similarImages' `base64`, POST /query-images). A refused model
   * answers SERVICE_UNAVAILABLE: a search by image fails visibly rather than ranking by another
   * model's code. Searches by an archived image's uid use its stored code and are unaffected.
   */
  async hashQueryImage(image: Gray8Image): Promise<bigint> {
    try {
      return await (await this.hashModel()).hashImage(image);
    } catch (err) {
      if (err instanceof ModelIntegrityError) {
        throw new ServiceUnavailableError('Search by image is unavailable: the archive\'s hash model failed its integrity check (the file does not match its pinned sha256) and was not loaded; the archive has been alerted. A search by an archived image\'s uid still works.');
      }
      throw err;
    }
  }
}
