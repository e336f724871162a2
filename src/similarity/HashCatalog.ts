import type { EntityManager } from '@mikro-orm/knex';
import { hexToCode } from '../retrieval/code.js';
import { HashIndex } from '../retrieval/HashIndex.js';
import { HashModel } from '../retrieval/HashModel.js';

/**
 * The archive's Hamming index plus what filtering needs to know about each entry (its series),
 * rebuilt from the hash codes stored on Image at start-up and kept current as images are
 * stored or removed. The model is loaded on first use: a browse-only server never pays for it.
 */
export class HashCatalog {
  readonly index = new HashIndex(1 << 16);
  /** seriesOf[imageId] = series id; ids are dense auto-increment keys. */
  private seriesOf = new Int32Array(1 << 16);
  private model: Promise<HashModel> | null = null;

  static async load(em: EntityManager, batch = 50_000): Promise<HashCatalog> {
    const catalog = new HashCatalog();
    const knex = em.getKnex();
    let after = 0;
    for (;;) {
      // Keyset pages keep memory flat and avoid OFFSET rescans at 1.9 M rows.
      const rows: { id: number; series_id: number; hash_code: string }[] = await knex('image')
        .select('id', 'series_id', 'hash_code').whereNotNull('hash_code').where('id', '>', after).orderBy('id').limit(batch);
      if (!rows.length) break;
      for (const r of rows) catalog.add(Number(r.id), Number(r.series_id), hexToCode(r.hash_code));
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
  }

  remove(imageId: number): void {
    this.index.remove(imageId);
  }

  seriesIdOf(imageId: number): number {
    return this.seriesOf[imageId] ?? 0;
  }

  hashModel(): Promise<HashModel> {
    this.model ??= HashModel.load();
    return this.model;
  }
}
