import { Field, Float, ObjectType, Int } from 'type-graphql';
import { Connection } from '../types/connection.js';

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
  @Field({ description: 'SHA-256 of the file.' }) sha256!: string;
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

export const VersionFileConnection = Connection(VersionFile, 'VersionFile');
