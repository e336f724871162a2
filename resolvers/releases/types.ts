import { Field, Float, ObjectType, Int } from 'type-graphql';
import type { Page } from '../../src/browse/pagination.js';
import { PageInfo } from '../types/connection.js';

@ObjectType({ description: 'One image of a collection version, as its manifest lists it.' })
export class VersionFile {
  id!: number;
  collectionAccession!: string;
  @Field({ description: 'SOPInstanceUID.' }) sopInstanceUid!: string;
  @Field({ description: 'SeriesInstanceUID of its series.' }) seriesInstanceUid!: string;
  @Field({ description: 'StudyInstanceUID of its study.' }) studyInstanceUid!: string;
  @Field({ description: 'Study accession.' }) studyAccession!: string;
  @Field({ description: 'Individual accession.' }) individualAccession!: string;
  @Field(() => String, { nullable: true, description: 'Modality of its series.' }) modality!: string | null;
  @Field(() => String, { nullable: true, description: 'SHA-256 of the file. Null for callers who may not view the collection\'s pixels (a CONTROLLED collection without an approved request), as Image.sha256: a digest confirms whether someone holds a given file.' }) sha256!: string | null;
  @Field(() => Float, { description: 'Size in bytes.' }) size!: number;
}

@ObjectType({ description: 'One series of a collection version, with its image count in that version.' })
export class VersionSeries {
  @Field({ description: 'SeriesInstanceUID.' }) seriesInstanceUid!: string;
  @Field({ description: 'Study accession.' }) studyAccession!: string;
  @Field({ description: 'Individual accession.' }) individualAccession!: string;
  @Field(() => String, { nullable: true, description: 'Modality.' }) modality!: string | null;
  @Field(() => Int, { description: 'Images of the series in this version.' }) imageCount!: number;
}

@ObjectType({ description: 'An edge in a VersionFile connection.' })
export class VersionFileEdge {
  @Field({ description: 'Opaque cursor of this file.' }) cursor!: string;
  @Field(() => VersionFile, { description: 'The file.' }) node!: VersionFile;
}

// Spelled out rather than made by Connection(): every field here is described (they reach clients through introspection).
@ObjectType({ description: 'A page of a version\'s files, with the total over all pages.' })
export class VersionFileConnection {
  page!: Page<VersionFile & { id: number }>;
  @Field(() => [VersionFileEdge], { description: 'The files of this page, in manifest order.' }) edges!: VersionFileEdge[];
  @Field(() => PageInfo, { description: 'Where this page lies.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Number of files matching, over all pages.' })
  totalCount(): Promise<number> { return this.page.totalCount(); }
}
