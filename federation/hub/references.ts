import type { Ref } from '@mikro-orm/core';
import type { RequestContext } from '../../src/context.js';
import type { Collection, Image, Series } from '../../src/entities/index.js';
import { canSeeCollection } from './visibility.js';

/**
 * Reference resolvers for the hub's entities: how the gateway's `_entities` call turns
 * `{__typename, accession|uid}` into rows. Every lookup goes through the request's DataLoaders,
 * and the key loaders join the parents the visibility check reads, so a 500-representation call
 * costs one statement per type (and one per "has a visible series" check), as 50 do.
 */

type Representation = Record<string, unknown>;

function key(rep: Representation, field: string): string | null {
  const value = rep[field];
  return typeof value === 'string' && value.length <= 64 ? value : null;
}

/** Hidden and absent read the same, as in BrowseService lookups. */
function ifVisible<T extends { collection: Ref<Collection> }>(row: T | null, ctx: RequestContext): T | null {
  return row && canSeeCollection(ctx.user, row.collection.getEntity()) ? row : null;
}

/** A series (and its images) also needs to be published: passed in a released collection. */
function seriesIfVisible(series: Series | null, ctx: RequestContext): Series | null {
  return series && canSeeCollection(ctx.user, series.collection.getEntity(), series) ? series : null;
}

function imageIfVisible(image: Image | null, ctx: RequestContext): Image | null {
  return image && seriesIfVisible(image.series.getEntity(), ctx) ? image : null;
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
      const row = ifVisible(accession ? await ctx.loaders.individualByAccession.load(accession) : null, ctx);
      return row && (await ctx.loaders.individualHasVisibleSeries.load(row.id)) ? row : null;
    },
  },
  Study: {
    async __resolveReference(rep: Representation, ctx: RequestContext) {
      const accession = key(rep, 'accession');
      const row = ifVisible(accession ? await ctx.loaders.studyByAccession.load(accession) : null, ctx);
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
