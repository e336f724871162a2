import { GraphQLError } from 'graphql';
import type { Knex } from 'knex';
import { hasRole, Role, type Principal } from '../auth/Principal.js';
import { Accessibility, ReleaseState } from '../domain.js';

/**
 * What a caller may want to do with a collection (or anything under it). One policy answers
 * for every action, so the browse filters, the `viewerCan*` fields, the mutations and the file
 * routes cannot drift apart.
 */
export enum Action {
  BROWSE = 'browse',
  VIEW_THUMBNAIL = 'view_thumbnail',
  CREATE_DOWNLOAD_LINK = 'create_download_link',
  DOWNLOAD = 'download',
  REQUEST_ACCESS = 'request_access',
  REVIEW_REQUESTS = 'review_requests',
  VIEW_AUDIT_LOG = 'view_audit_log',
  MANAGE_DELEGATES = 'manage_delegates',
}

/** The columns of a collection the policy reads. */
export interface CollectionRow {
  id: number;
  accession: string;
  submitter: string;
  accessibility: Accessibility | string;
  releaseState: ReleaseState | string;
}

/** What the policy needs to know about one caller and one collection besides the row itself. */
export interface CollectionFacts {
  collection: CollectionRow;
  /** The caller is a delegate of the submitter for this collection. */
  delegate: boolean;
  /** The caller holds an approval that has neither expired nor been revoked. */
  approved: boolean;
  /** The caller has a request awaiting the owner's decision. */
  pending: boolean;
  /** The approval is a GA4GH passport visa for a dataset the collection declares equivalent (issue 19). */
  viaVisa?: boolean;
}

export interface Decision {
  allow: boolean;
  /** Why, in words fit for the audit log (never shown to the caller: it could reveal existence). */
  reason: string;
}

const allow = (reason: string): Decision => ({ allow: true, reason });
const deny = (reason: string): Decision => ({ allow: false, reason });

/** Curators and admins see and fetch everything, released or not. */
export const isCurator = (user: Principal | null) => hasRole(user, Role.CURATOR, Role.ADMIN);

/**
 * Unreleased collections, and everything under them, are visible only to their submitter and to
 * curators (admins included). Delegates act for a released collection's owner; they do not
 * see unreleased work.
 */
export function canSee(user: Principal | null, c: CollectionRow): boolean {
  return c.releaseState === ReleaseState.RELEASED || isCurator(user) || (!!user && c.submitter === user.id);
}

/** The same rule in SQL, against a collection aliased `c` (what the browse queries join). */
export function visibleCollectionsWhere(user: Principal | null): ((qb: Knex.QueryBuilder) => void) | null {
  if (isCurator(user)) return null;
  return (qb) => qb.where((w) => {
    w.where('c.release_state', ReleaseState.RELEASED);
    if (user) w.orWhere('c.submitter', user.id);
  });
}

/**
 * The policy. Anonymous callers browse released metadata and open thumbnails; files need a
 * signed-in user (links are bound to a user and every download is audited), and controlled files
 * an approval that is still valid. Owners (submitter or delegate), curators and admins fetch
 * their collections' files without asking.
 */
export function decide(user: Principal | null, action: Action, f: CollectionFacts | null): Decision {
  if (!f) return deny('no such object');
  const c = f.collection;
  if (!canSee(user, c)) return deny('unreleased and not the submitter or a curator');
  const owner = !!user && (c.submitter === user.id || f.delegate);
  const released = c.releaseState === ReleaseState.RELEASED;
  const open = c.accessibility === Accessibility.OPEN;
  const files = (): Decision => {
    if (!user) return deny('files need a signed-in user');
    if (owner) return allow(c.submitter === user.id ? 'submitter' : 'delegate of the submitter');
    if (isCurator(user)) return allow(hasRole(user, Role.ADMIN) ? 'admin' : 'curator');
    if (!released) return deny('unreleased');
    if (open) return allow('open and released');
    return f.approved ? allow(f.viaVisa ? 'GA4GH passport visa (ControlledAccessGrants)' : 'approved access request') : deny('controlled and no valid approval');
  };
  switch (action) {
    case Action.BROWSE:
      return allow(released ? 'released' : 'unreleased, shown to its submitter or a curator');
    case Action.VIEW_THUMBNAIL:
      // Thumbnails are pixel data: public for open collections, like the files for controlled ones.
      return open ? allow('open collection') : files();
    case Action.CREATE_DOWNLOAD_LINK:
    case Action.DOWNLOAD:
      return files();
    case Action.REQUEST_ACCESS:
      if (!user) return deny('requests need a signed-in user');
      if (open) return deny('open collection: nothing to request');
      if (!released) return deny('unreleased');
      if (owner || isCurator(user)) return deny('already has access');
      if (f.approved) return deny('already approved');
      if (f.pending) return deny('a request is already pending');
      return allow('controlled and released');
    case Action.REVIEW_REQUESTS:
    case Action.VIEW_AUDIT_LOG:
      if (owner) return allow(c.submitter === user!.id ? 'submitter' : 'delegate of the submitter');
      return hasRole(user, Role.ADMIN) ? allow('admin') : deny('not the owner, a delegate or an admin');
    case Action.MANAGE_DELEGATES:
      if (user && c.submitter === user.id) return allow('submitter');
      return hasRole(user, Role.ADMIN) ? allow('admin') : deny('not the submitter or an admin');
  }
}

/** `decide` as a boolean: what the `viewerCan*` fields report. */
export function can(user: Principal | null, action: Action, facts: CollectionFacts | null): boolean {
  return decide(user, action, facts).allow;
}

/**
 * Throws when `decide` denies: UNAUTHENTICATED for anonymous callers, FORBIDDEN for signed-in
 * ones. The message is the same whether the object is absent, hidden or merely not permitted,
 * so an error never tells a caller that something hidden exists.
 */
export function assertCan(user: Principal | null, action: Action, facts: CollectionFacts | null, named: string): Decision {
  const decision = decide(user, action, facts);
  if (!decision.allow) throw refusal(user, action, named);
  return decision;
}

const VERBS: Record<Action, string> = {
  [Action.BROWSE]: 'see',
  [Action.VIEW_THUMBNAIL]: 'view thumbnails of',
  [Action.CREATE_DOWNLOAD_LINK]: 'download',
  [Action.DOWNLOAD]: 'download',
  [Action.REQUEST_ACCESS]: 'request access to',
  [Action.REVIEW_REQUESTS]: 'review access requests of',
  [Action.VIEW_AUDIT_LOG]: 'read the audit log of',
  [Action.MANAGE_DELEGATES]: 'manage delegates of',
};

export function refusal(user: Principal | null, action: Action, named: string): GraphQLError {
  if (!user) {
    return new GraphQLError(`Sign in to ${VERBS[action]} ${named}.`, { extensions: { code: 'UNAUTHENTICATED' } });
  }
  return new GraphQLError(`There is no ${named} you may ${VERBS[action]}.`, { extensions: { code: 'FORBIDDEN' } });
}
