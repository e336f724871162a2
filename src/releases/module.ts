import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { AccessModule } from '../access/module.js';
import { logger } from '../log.js';
import type { HashCatalog } from '../similarity/HashCatalog.js';
import type { ReleasesConfig } from './config.js';
import { VersionSeriesCache } from './seriesCache.js';

/**
 * What releases keep per app: the DataCite settings, the public base URL (landing pages, DRS
 * host) and the live hash catalog (a withdrawn image leaves it). Found from any EntityManager
 * of the app (forks share their ORM's configuration), so services need no extra wiring.
 */
export class ReleasesModule {
  private static readonly byConfig = new WeakMap<object, ReleasesModule>();
  readonly log = logger.child({ module: 'releases' });
  /**
   * DOI registrations in flight, by version id: a retry sent while one runs (mintVersionDoi twice
   * at once, or during the release's own) waits for it instead of registering the DOI again.
   */
  readonly minting = new Map<number, Promise<void>>();
  /** Series lists of versions (immutable once cut), kept and shared: see seriesCache.ts. */
  readonly versionSeries = new VersionSeriesCache();

  private constructor(
    readonly config: ReleasesConfig, readonly access: AccessModule, readonly hashCatalog: HashCatalog | null,
    /** Visa issuers a passport's visas may come from, and the bearer-token issuer (DRS `Authorizations`). */
    readonly passportIssuers: string[], readonly bearerIssuers: string[],
  ) {}

  static open(orm: MikroORM, config: ReleasesConfig, access: AccessModule, hashCatalog: HashCatalog | null, issuers: { passports: string[]; bearer: string[] } = { passports: [], bearer: [] }): ReleasesModule {
    const module = new ReleasesModule(config, access, hashCatalog, issuers.passports, issuers.bearer);
    ReleasesModule.byConfig.set(orm.config, module);
    return module;
  }

  static of(em: EntityManager): ReleasesModule {
    const module = ReleasesModule.byConfig.get(em.config);
    if (!module) throw new Error('releases are not set up for this ORM (ReleasesModule.open)');
    return module;
  }

  get baseUrl(): string { return this.access.baseUrl; }

  /** The host in `drs://<host>/<id>`: the public base URL's host. */
  get drsHost(): string { return new URL(this.access.baseUrl).host; }

  landingUrl(accession: string, number: number): string {
    return `${this.baseUrl}/collections/${accession}/versions/${number}`;
  }
}
