import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * What the database knows of a key the archive keeps outside it, to tell at start-up that the
 * key in hand is the archive's (src/ingest/secret.ts): a fingerprint, never the key.
 */
@Entity({ tableName: 'archive_key_check' })
export class ArchiveKeyCheck {
  /** Which key: `archive-secret`. */
  @PrimaryKey({ length: 32 })
  name!: string;

  /** HMAC-SHA256 of a fixed label under the key, hex. */
  @Property({ length: 64 })
  fingerprint!: string;

  @Property()
  recordedAt: Date = new Date();
}
