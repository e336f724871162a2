import { Field, InputType, Int } from 'type-graphql';
import { Accessibility, Sex } from '../../src/domain.js';
import type { BrowseFilter } from '../../src/browse/filter.js';

@InputType({ description: 'Browse filters. Every field is optional; given fields are combined with AND, values within a list with OR.' })
export class BrowseFilterInput implements BrowseFilter {
  @Field(() => [Sex], { description: 'Only individuals of this sex.', nullable: true })
  sex?: Sex[] | null;

  @Field(() => Int, { nullable: true, description: 'Minimum age in years (inclusive).' })
  ageMin?: number | null;

  @Field(() => Int, { nullable: true, description: 'Maximum age in years (inclusive).' })
  ageMax?: number | null;

  @Field(() => String, { nullable: true, description: 'Disease or diagnosis, matched case-insensitively as a substring.' })
  disease?: string | null;

  @Field(() => [String], { nullable: true, description: 'DICOM modalities (CT, MR, …).' })
  modality?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Anatomical sites (BodyPartExamined terms: CHEST, PELVIS, …).' })
  anatomicalSite?: string[] | null;

  @Field(() => Accessibility, { description: 'Only collections of this accessibility (OPEN or CONTROLLED).', nullable: true })
  accessibility?: Accessibility | null;

  @Field(() => [String], { nullable: true, description: 'Collection accessions (OBIA0001, …).' })
  collection?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Only individuals with (true) or without (false) a GSA-Human link.' })
  hasGsaHumanLink?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Words that must all appear in a collection\'s title, description or keywords.' })
  keyword?: string | null;
}
