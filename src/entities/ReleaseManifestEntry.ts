import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { CollectionVersion } from './CollectionVersion.js';

/**
 * One image of one collection version, copied from the live catalogue at release. Enough to
 * resolve, list and download the version exactly as it was after the live rows change (a new
 * series, a withdrawal): the bytes stay in the content-addressed store under `sha256`.
 */
@Entity({ tableName: 'release_manifest_entry' })
@Index({ properties: ['version', 'id'] })
@Index({ properties: ['version', 'seriesInstanceUid'] })
export class ReleaseManifestEntry {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => CollectionVersion, { ref: true, index: false })
  version!: Ref<CollectionVersion>;

  @Property({ length: 64 })
  @Index()
  sopInstanceUid!: string;

  @Property({ length: 64 })
  seriesInstanceUid!: string;

  @Property({ length: 64 })
  studyInstanceUid!: string;

  @Property({ length: 16 })
  studyAccession!: string;

  @Property({ length: 16 })
  individualAccession!: string;

  @Property({ length: 16, nullable: true })
  modality?: string | null;

  @Property({ length: 64 })
  sha256!: string;

  @Property({ type: new BigIntType('number') })
  size!: number;
}
