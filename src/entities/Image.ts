import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Directive, Field, Float, Int, ObjectType } from 'type-graphql';
import { Series } from './Series.js';

/** One DICOM file (SOP instance) held by the archive. */
// A federation entity: other subgraphs reference it by uid (issue 6).
@Directive('@key(fields: "uid")')
@ObjectType({ description: 'An image: one de-identified DICOM file, identified by its SOPInstanceUID.' })
@Entity({ tableName: 'image' })
@Index({ properties: ['series', 'id'] })
export class Image {
  @PrimaryKey({ autoincrement: true })
  id!: number;

  @Field({ description: 'De-identified SOPInstanceUID.' })
  @Property({ length: 64, unique: true })
  uid!: string;

  @ManyToOne(() => Series, { ref: true, index: false })
  series!: Ref<Series>;

  @Field(() => String, { nullable: true, description: 'SOPClassUID.' })
  @Property({ type: 'string', length: 64, nullable: true })
  sopClassUid?: string | null;

  @Field(() => Int, { description: 'Position of the image within its series (InstanceNumber), when recorded.', nullable: true })
  @Property({ type: 'integer', nullable: true })
  instanceNumber?: number | null;

  @Field(() => Int, { description: 'Height in pixels (Rows).', nullable: true })
  @Property({ type: 'integer', nullable: true })
  rows?: number | null;

  @Field(() => Int, { description: 'Width in pixels (Columns).', nullable: true })
  @Property({ type: 'integer', nullable: true })
  columns?: number | null;

  @Field(() => Int, { description: 'Number of frames (1 for single-frame images).' })
  @Property({ type: 'integer', default: 1 })
  frames: number = 1;

  @Field(() => Int, { description: 'Bits allocated per pixel sample (BitsAllocated: 8, 16 or 32).', nullable: true })
  @Property({ type: 'integer', nullable: true })
  bitsAllocated?: number | null;

  @Field({ description: 'Transfer syntax UID of the stored file.' })
  @Property({ length: 64 })
  transferSyntaxUid!: string;

  /** Served through ImageResolver.sha256: only to callers who may view the pixels. */
  @Property({ length: 64 })
  @Index()
  sha256!: string;

  @Field(() => Float, { description: 'Size of the stored file in bytes.' })
  @Property({ type: new BigIntType('number') })
  size!: number;

  /** Served through ImageResolver.hashCode: only to callers who may view the pixels. */
  @Property({ type: 'string', length: 16, nullable: true })
  hashCode?: string | null;

  /** SHA-256 of the image's DICOM JSON metadata (PS3.18 Annex F) in the derived-data cache; for DICOMweb. */
  @Property({ type: 'string', length: 64, nullable: true })
  metadataSha256?: string | null;

  /** The burned-in text check's record (src/ingest/products/burnedInText.ts), for curators: GraphQL `Image.burnedInText`. */
  @Property({ type: 'json', nullable: true, lazy: true })
  burnedInText?: unknown;
}
