import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../src/context.js';
import { Collection, Individual } from '../../src/entities/index.js';
import type { SeriesTotals } from '../../src/loaders.js';
import { BioProjectRef, GsaHumanIndividualRef, ImagingCounts, ModalityCount } from './links.types.js';
import { canSeeCollection } from './visibility.js';

function sum(totals: SeriesTotals[], collections: number): ImagingCounts {
  const out = { collections, individuals: 0, studies: 0, series: 0, images: 0 };
  // Individuals, studies and series never span collections, so per-parent counts add up.
  for (const t of totals) {
    out.individuals += t.individuals; out.studies += t.studies; out.series += t.series; out.images += t.images;
  }
  return out;
}

/** Imaging → genomics: the links as key-only entity references the gateway resolves elsewhere. */
@Resolver(() => Collection)
export class CollectionLinksResolver {
  @FieldResolver(() => BioProjectRef, { nullable: true, description: 'The linked BioProject as an entity: its other fields come from the BioProject subgraph through the gateway.' })
  bioProject(@Root() collection: Collection): BioProjectRef | null {
    return collection.bioProjectAccession ? { accession: collection.bioProjectAccession } : null;
  }

  @FieldResolver(() => [ModalityCount], { description: 'Studies, series and images per modality in this collection.' })
  seriesCountsByModality(@Root() collection: Collection, @Ctx() ctx: RequestContext) {
    return ctx.loaders.modalityTotalsByCollection.load(collection.id);
  }
}

@Resolver(() => Individual)
export class IndividualLinksResolver {
  @FieldResolver(() => GsaHumanIndividualRef, { nullable: true, description: 'The linked GSA-Human individual as an entity: its runs and experiments come from the GSA-Human subgraph through the gateway.' })
  gsaHuman(@Root() individual: Individual): GsaHumanIndividualRef | null {
    return individual.gsaHumanAccession ? { accession: individual.gsaHumanAccession } : null;
  }
}

/** Genomics → imaging: the fields the hub contributes to the genomic resources' own types. */
@Resolver(() => BioProjectRef)
export class BioProjectImagingResolver {
  private async visible(ref: BioProjectRef, ctx: RequestContext): Promise<Collection[]> {
    const rows = await ctx.loaders.collectionsByBioProject.load(ref.accession);
    return rows.filter((c) => canSeeCollection(ctx.user, c));
  }

  @FieldResolver(() => [Collection], { description: 'Imaging collections linked to this BioProject that the caller may see.' })
  imagingCollections(@Root() ref: BioProjectRef, @Ctx() ctx: RequestContext) {
    return this.visible(ref, ctx);
  }

  @FieldResolver(() => ImagingCounts, { description: 'Imaging held under this BioProject, over the collections the caller may see.' })
  async imagingCounts(@Root() ref: BioProjectRef, @Ctx() ctx: RequestContext): Promise<ImagingCounts> {
    const collections = await this.visible(ref, ctx);
    const totals = await Promise.all(collections.map((c) => ctx.loaders.seriesTotalsByCollection.load(c.id)));
    return sum(totals, collections.length);
  }
}

@Resolver(() => GsaHumanIndividualRef)
export class GsaHumanImagingResolver {
  private async visible(ref: GsaHumanIndividualRef, ctx: RequestContext): Promise<Individual[]> {
    const rows = await ctx.loaders.individualsByGsaHuman.load(ref.accession);
    const collections = await Promise.all(rows.map((i) => ctx.loaders.collectionById.load(i.collection.id)));
    const shown = await Promise.all(rows.map((i) => ctx.loaders.individualHasVisibleSeries.load(i.id)));
    return rows.filter((_, k) => canSeeCollection(ctx.user, collections[k]) && shown[k]);
  }

  @FieldResolver(() => Individual, { nullable: true, description: 'The imaging individual linked to this GSA-Human individual, if the caller may see it.' })
  async imagingIndividual(@Root() ref: GsaHumanIndividualRef, @Ctx() ctx: RequestContext) {
    return (await this.visible(ref, ctx))[0] ?? null;
  }

  @FieldResolver(() => ImagingCounts, { description: 'Imaging held for this GSA-Human individual that the caller may see.' })
  async imagingCounts(@Root() ref: GsaHumanIndividualRef, @Ctx() ctx: RequestContext): Promise<ImagingCounts> {
    const individuals = await this.visible(ref, ctx);
    const totals = await Promise.all(individuals.map((i) => ctx.loaders.seriesTotalsByIndividual.load(i.id)));
    return sum(totals, new Set(individuals.map((i) => i.collection.id)).size);
  }
}

export const linkResolvers = [CollectionLinksResolver, IndividualLinksResolver, BioProjectImagingResolver, GsaHumanImagingResolver] as const;
