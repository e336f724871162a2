import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Collection } from './Collection.js';

/** How a version's identifier came to be: minted at DataCite, or local because no credentials are configured. */
export enum IdentifierKind {
  DOI = 'DOI',
  LOCAL = 'LOCAL',
  /** Credentials are configured but minting failed; `mintVersionDoi` retries. */
  MINT_PENDING = 'MINT_PENDING',
}
registerEnumType(IdentifierKind, {
  name: 'IdentifierKind',
  description: 'DOI: minted at DataCite. LOCAL: no DataCite credentials are configured, so the archive shows a local identifier of the same shape (not a DOI). MINT_PENDING: minting failed and may be retried.',
  valuesConfig: {
    DOI: { description: 'A DOI registered and published at DataCite.' },
    LOCAL: { description: 'A local identifier (LOCAL/OBIA0001.v2): no DataCite credentials are configured; not a DOI.' },
    MINT_PENDING: { description: 'DataCite registration failed or is pending; not yet a resolvable DOI (mintVersionDoi retries).' },
  },
});

/**
 * One immutable, numbered release of a collection (v1, v2, …): the manifest of every image it
 * held at release time lives in `release_manifest_entry`, and its checksum here. Rows are
 * written once and never updated, except for the identifier minted after the fact.
 */
@ObjectType({ description: 'An immutable, numbered release of a collection (v1, v2, …): a manifest of every image with its own checksum, DataCite metadata and a DOI (or a labelled local identifier).' })
@Entity({ tableName: 'collection_version' })
@Unique({ properties: ['collection', 'number'] })
export class CollectionVersion {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @ManyToOne(() => Collection, { ref: true, index: false })
  collection!: Ref<Collection>;

  @Field(() => Int, { description: 'Version number: 1 for the first release, one more for each release after a change.' })
  @Property()
  number!: number;

  @Field({ description: 'When the version was released.' })
  @Property()
  createdAt: Date = new Date();

  /** The curator who released it. */
  @Property({ length: 200 })
  createdBy!: string;

  @Field(() => Int, { description: 'Images in this version.' })
  @Property()
  imageCount!: number;

  @Field(() => Int, { description: 'Series in this version.' })
  @Property()
  seriesCount!: number;

  @Field(() => Float, { description: 'Total size of its files in bytes.' })
  @Property({ type: new BigIntType('number') })
  totalSize!: number;

  /** sha256 of the canonical manifest (see src/releases/manifest.ts). */
  @Field({ description: 'SHA-256 of the canonical manifest: one "<sha256>  <size>  <path>" line per file in hierarchy order, then one "withdrawn  <SOPInstanceUID>  <reason>" line per tombstone.' })
  @Property({ length: 64 })
  manifestSha256!: string;

  /** DRS bundle checksum: sha256 over the sorted concatenation of the images' sha256s (DRS 1.4 DrsObject.checksums). */
  @Field({ description: 'The GA4GH DRS bundle checksum (sha-256 over the sorted concatenation of its files\' SHA-256s).' })
  @Property({ length: 64 })
  bundleSha256!: string;

  /** Images added and withdrawn since the previous version (for the change note). */
  @Field(() => Int, { description: 'Images added since the previous version.' })
  @Property()
  addedCount!: number;

  @Field(() => Int, { description: 'Images withdrawn since the previous version.' })
  @Property()
  withdrawnCount!: number;

  @Field(() => IdentifierKind, { description: 'Whether `identifier` is a minted DOI, a local identifier, or a DOI whose registration is pending.' })
  @Enum({ items: () => IdentifierKind })
  identifierKind!: IdentifierKind;

  /** The DOI when minted; otherwise the local identifier of the same shape. */
  @Field({ description: 'The DOI (10.x/OBIA0001.v2) when minted; otherwise a local identifier of the same shape (LOCAL/OBIA0001.v2), which is not a DOI.' })
  @Property({ length: 200 })
  identifier!: string;

  /** The DataCite metadata as it was released (attributes of a DataCite REST API `dois` resource). */
  @Property({ type: 'json' })
  dataCite!: Record<string, any>;
}
