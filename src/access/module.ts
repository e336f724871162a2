import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/Principal.js';
import type { TokenVerifier } from '../auth/verifier.js';
import type { Config } from '../config.js';
import { AccessControl } from './AccessControl.js';
import { AccessRequestService } from './AccessRequestService.js';
import type { BlobLocator } from './blobs.js';
import { DownloadService } from './DownloadService.js';
import { LinkSigner } from './links.js';
import { UserDirectory } from './UserDirectory.js';

/** The access services one request works with. */
export interface AccessContext {
  control: AccessControl;
  requests: AccessRequestService;
  downloads: DownloadService;
}

/**
 * What access control keeps per app: the link secret, the user directory (with its "seen
 * recently" cache), the blob store to stream from and the public base URL of links.
 */
export class AccessModule {
  private static readonly byOrm = new WeakMap<MikroORM, AccessModule>();
  readonly users = new UserDirectory();
  readonly signer: LinkSigner;
  baseUrl: string;
  /**
   * The clock access decisions read (approval expiry, link expiry). Only tests set it, to move
   * past an expiry without waiting for it.
   */
  now: () => Date = () => new Date();

  private constructor(readonly orm: MikroORM, readonly config: Config, readonly verifier: TokenVerifier, readonly blobs: BlobLocator) {
    this.signer = LinkSigner.open(config.keysDir);
    this.baseUrl = process.env.OBIA_PUBLIC_URL?.replace(/\/$/, '') ?? `http://localhost:${config.port}`;
  }

  static open(orm: MikroORM, config: Config, verifier: TokenVerifier, blobs: BlobLocator): AccessModule {
    const module = new AccessModule(orm, config, verifier, blobs);
    AccessModule.byOrm.set(orm, module);
    return module;
  }

  /** The module of the app that owns `orm` (the request context is built from the orm alone). */
  static of(orm: MikroORM): AccessModule | undefined {
    return AccessModule.byOrm.get(orm);
  }

  /** Records the user (cheaply: see UserDirectory) and builds the request's access services. */
  async forRequest(em: EntityManager, user: Principal | null): Promise<AccessContext> {
    await this.users.record(em, user);
    return this.services(em, new AccessControl(em, user, this.now));
  }

  /** The access services over a request's own unit of work and authorization session. */
  services(em: EntityManager, control: AccessControl): AccessContext {
    return {
      control,
      requests: new AccessRequestService(em, control),
      downloads: new DownloadService(em, control, this.signer, () => this.baseUrl),
    };
  }
}
