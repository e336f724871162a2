import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Counts for one collection, modality or anatomical site.' })
export class CountRow {
  @Field({ description: 'Collection accession, modality or anatomical site ("UNKNOWN" when unrecorded).' })
  key!: string;

  @Field(() => Int, { description: 'Individuals with at least one matching series.' })
  individuals!: number;

  @Field(() => Int, { description: 'Studies with at least one matching series.' })
  studies!: number;

  @Field(() => Int, { description: 'Matching series.' })
  series!: number;

  @Field(() => Float, { description: 'Number of images (a Float: archives outgrow 32-bit counts).' })
  images!: number;
}

@ObjectType({ description: 'Archive statistics: the OBIA paper\'s Table 1 (per collection), S1 (per modality) and S2 (per anatomical site).' })
export class Statistics {
  @Field(() => CountRow, { description: 'Totals over everything the filter matches.' })
  total!: CountRow;

  @Field(() => [CountRow], { description: 'Counts per collection (key: its accession).' })
  byCollection!: CountRow[];

  @Field(() => [CountRow], { description: 'Counts per DICOM modality.' })
  byModality!: CountRow[];

  @Field(() => [CountRow], { description: 'Counts per anatomical site (BodyPartExamined defined terms), largest first.' })
  byAnatomicalSite!: CountRow[];
}
