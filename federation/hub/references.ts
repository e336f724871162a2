import type { Ref } from '@mikro-orm/core';
import type { RequestContext } from '../../src/context.js';
import type { Collection, Image, Series } from '../../src/entities/index.js';
import { canSeeCollection } from './visibility.js';

/**
 * Reference resolvers for the hub's entities: how the gateway's `_entities` call turns
 * `{__typename, accession|uid}` into rows. Every lookup goes through the request's DataLoaders,
 * so a 500-representation call costs one statement per stage (the rows, then their
 * collections for the visibility check), not one per representation.
 */

type Representation = Record<string, unknown>;

function key(rep: Representation, field: string): string | null {
  const value = rep[field];
  return typeof value === 'string' && value.length <= 64 ? value : null;
}

/** Hidden and absent read the same, as in BrowseService lookups. */
async function ifVisible<T extends { collection: Ref<Collection> }>(row: T | null, ctx: RequestContext): Promise<T | null> {
  if (!row) return null;
  const collection = await ctx.loaders.collectionById.load(row.collection.id);
  return canSeeCollection(ctx.user, collection) ? row : null;
}

/** A series (and its images) also needs to be published: passed in a released collection. */
async function seriesIfVisible(series: Series | null, ctx: RequestContext): Promise<Series | null> {
  if (!series) return null;
  const collection = await ctx.loaders.collectionById.load(series.collection.id);
  return canSeeCollection(ctx.user, collection, series) ? series : null;
}

async function imageIfVisible(image: Image | null, ctx: RequestContext): Promise<Image | null> {
  if (!image) return null;
  const series: Series | null = await ctx.loaders.seriesById.load(image.series.id);
  return (await seriesIfVisible(series, ctx)) ? image : null;
}

export const referenceResolvers = {
  Collection: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const accession = key(rep, 'accession');
      const row = accession ? await ctx.loaders.collectionByAccession.load(accession) : null;
      return canSeeCollection(ctx.user, row) ? row : null;
    },
  },
  Individual: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const accession = key(rep, 'accession');
      const row = await ifVisible(accession ? await ctx.loaders.individualByAccession.load(accession) : null, ctx);
      return row && (await ctx.loaders.individualHasVisibleSeries.load(row.id)) ? row : null;
    },
  },
  Study: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const accession = key(rep, 'accession');
      const row = await ifVisible(accession ? await ctx.loaders.studyByAccession.load(accession) : null, ctx);
      return row && (await ctx.loaders.studyHasVisibleSeries.load(row.id)) ? row : null;
    },
  },
  Series: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const uid = key(rep, 'uid');
      return seriesIfVisible(uid ? await ctx.loaders.seriesByUid.load(uid) : null, ctx);
    },
  },
  Image: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const uid = key(rep, 'uid');
      return imageIfVisible(uid ? await ctx.loaders.imageByUid.load(uid) : null, ctx);
    },
  },
  // The genomic stubs carry only their key; their imaging fields resolve from it.
  BioProject: {
    __resolveReference: (rep: Representation) => (key(rep, 'accession') ? { accession: key(rep, 'accession') } : null),
  },
  GsaHumanIndividual: {
    __resolveReference: (rep: Representation) => (key(rep, 'accession') ? { accession: key(rep, 'accession') } : null),
  },
};
