import { Directive, Field, Float, Int, ObjectType } from 'type-graphql';

/**
 * The hub's view of a BioProject: only its key. The BioProject subgraph owns every other field;
 * the hub adds the imaging ones (see links.resolver.ts), so a genomics client can start from
 * its own record and reach the images.
 */
@Directive('@key(fields: "accession")')
@ObjectType('BioProject', { description: 'A BioProject (PRJCA…, PRJNA…, PRJEB…, PRJDB…). Descriptive fields come from the BioProject subgraph; the imaging archive contributes imagingCollections and imagingCounts.' })
export class BioProjectRef {
  @Field({ description: 'BioProject accession.' })
  accession!: string;
}

/** The hub's view of a GSA-Human individual (HRI…): its key, plus the imaging fields the hub adds. */
@Directive('@key(fields: "accession")')
@ObjectType('GsaHumanIndividual', { description: 'An individual in GSA-Human (HRI…). Genomic fields come from the GSA-Human subgraph; the imaging archive contributes imagingIndividual and imagingCounts.' })
export class GsaHumanIndividualRef {
  @Field({ description: 'GSA-Human individual accession (HRI followed by six digits).' })
  accession!: string;
}

@ObjectType({ description: 'How much imaging the archive holds under a genomic record, counting only what the caller may see.' })
export class ImagingCounts {
  @Field(() => Int, { description: 'Collections.' })
  collections!: number;

  @Field(() => Int, { description: 'Individuals with at least one series.' })
  individuals!: number;

  @Field(() => Int, { description: 'Studies with at least one series.' })
  studies!: number;

  @Field(() => Int, { description: 'Series, of every modality.' })
  series!: number;

  @Field(() => Float, { description: 'Images (a Float: archives outgrow 32-bit counts).' })
  images!: number;
}

@ObjectType({ description: 'Studies, series and images of one modality within a collection.' })
export class ModalityCount {
  @Field({ description: 'DICOM modality (CT, MR, …).' })
  modality!: string;

  @Field(() => Int, { description: 'Studies with at least one series of this modality.' })
  studies!: number;

  @Field(() => Int, { description: 'Series of this modality.' })
  series!: number;

  @Field(() => Float, { description: 'Images of this modality.' })
  images!: number;
}
