import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from './auth/Principal.js';
import type { TokenVerifier } from './auth/verifier.js';
import { AccessModule, type AccessContext } from './access/module.js';
import { BrowseService } from './browse/BrowseService.js';
import { StatisticsService } from './browse/StatisticsService.js';
import type { Ingest } from './ingest/index.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { HashCatalog } from './similarity/HashCatalog.js';
import { SimilarImagesService } from './similarity/SimilarImagesService.js';

/** Everything a resolver may read: who is asking, a unit of work of its own, and its loaders. */
export interface RequestContext {
  user: Principal | null;
  em: EntityManager;
  loaders: Loaders;
  browse: BrowseService;
  statistics: StatisticsService;
  /** The access policy, access requests and download links (src/access). */
  access: AccessContext;
  similarImages: SimilarImagesService;
  /** Submission services (issue 3); null where a process runs without them. */
  ingest: Ingest | null;
}

/** One function builds the context for HTTP requests and for graphql-ws connections alike. */
export function contextFactory(orm: MikroORM, verifier: TokenVerifier, hashCatalog: HashCatalog, ingest: Ingest | null = null) {
  return async (authorization: string | null | undefined): Promise<RequestContext> => {
    const user = await verifier.principalFrom(authorization);
    const em = orm.em.fork() as EntityManager;
    const loaders = createLoaders(em);
    // Records the user on first sight (cached, so most requests write nothing).
    const access = await AccessModule.of(orm)!.forRequest(em, user);
    const browse = new BrowseService(em, user, loaders);
    return {
      user,
      em,
      ingest,
      loaders,
      browse,
      statistics: new StatisticsService(em, user),
      access,
      similarImages: new SimilarImagesService(em, user, browse, hashCatalog),
    };
  };
}
