import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from './auth/Principal.js';
import { AccessControl } from './access/AccessControl.js';
import type { AccessContext, AccessModule } from './access/module.js';
import { BrowseService } from './browse/BrowseService.js';
import { StatisticsService } from './browse/StatisticsService.js';
import type { Authenticate, Credentials } from './http/authenticate.js';
import type { Ingest } from './ingest/index.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { HashCatalog } from './similarity/HashCatalog.js';
import type { QueryImages } from './similarity/QueryImages.js';
import { SimilarImagesService } from './similarity/SimilarImagesService.js';

/** What a request context is built from: one set per app. */
export interface ContextDeps {
  orm: MikroORM;
  access: AccessModule;
  hashCatalog: HashCatalog;
  ingest: Ingest | null;
  /** Query images uploaded for similarImages (their codes only). */
  queryImages?: QueryImages;
}

/**
 * Everything a resolver or route may read: who is asking, the authorization session, a unit of
 * work of its own, its loaders and the services. Everything but `user` is built on first use,
 * so an upload does not build browse services, and a request that touches nothing opens nothing.
 */
export class RequestContext {
  // Plain (not #private) fields: Apollo shallow-copies the context object per operation, and
  // copies keep own properties but cannot reach another object's #private slots.
  private _em?: EntityManager;
  private _loaders?: Loaders;
  private _session?: AccessControl;
  private _access?: AccessContext;
  private _browse?: BrowseService;
  private _statistics?: StatisticsService;
  private _similarImages?: SimilarImagesService;

  constructor(readonly user: Principal | null, private readonly deps: ContextDeps) {}

  /** A MikroORM unit of work of this request's own (identity map and loaders never outlive it). */
  get em(): EntityManager { return (this._em ??= this.deps.orm.em.fork() as EntityManager); }
  get loaders(): Loaders { return (this._loaders ??= createLoaders(this.em, this.user)); }
  /** The authorization session: `assertCan` before a service reads or writes, `can` for `viewerCan*`. */
  get session(): AccessControl { return (this._session ??= new AccessControl(this.em, this.user, this.deps.access.now)); }
  /** Access requests and download links (src/access), over this request's session. */
  get access(): AccessContext { return (this._access ??= this.deps.access.services(this.em, this.session)); }
  get browse(): BrowseService { return (this._browse ??= new BrowseService(this.em, this.user, this.loaders)); }
  get statistics(): StatisticsService { return (this._statistics ??= new StatisticsService(this.em, this.user)); }
  get similarImages(): SimilarImagesService { return (this._similarImages ??= new SimilarImagesService(this.em, this.user, this.browse, this.deps.hashCatalog, this.deps.queryImages ?? null, this.session)); }
  /** Submission services; null where a process runs without them. */
  get ingest(): Ingest | null { return this.deps.ingest; }
  get accessModule(): AccessModule { return this.deps.access; }

  /** Records the signed-in user in the directory (cached: most requests write nothing). */
  async recordUser(): Promise<void> {
    await this.deps.access.users.record(this.em, this.user);
  }
}

export interface ContextOptions {
  recordUser?: boolean;
  /** The caller, when `authenticate` already ran for this request (a route's preHandler). */
  principal?: Principal | null;
}

export type CreateContext = (request: Credentials, options?: ContextOptions) => Promise<RequestContext>;

/**
 * One function builds the context for every transport: GraphQL over HTTP, graphql-ws and the
 * HTTP routes. It authenticates (throwing UNAUTHENTICATED for a bad credential) and, for
 * GraphQL, records the user (whose requests and delegations name them); routes that need no
 * user row do not write one.
 */
export function contextFactory(authenticate: Authenticate, deps: ContextDeps): CreateContext {
  return async (request, options = {}) => {
    const user = options.principal !== undefined ? options.principal : await authenticate(request);
    const ctx = new RequestContext(user, deps);
    if (options.recordUser) await ctx.recordUser();
    return ctx;
  };
}
