import type { GraphQLError } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { Knex } from 'knex';
import { hasRole, Role, type Principal } from '../auth/Principal.js';
import { Accessibility, ReleaseState } from '../domain.js';

/**
 * Everything a caller may want to do. One policy answers for every action, so the browse
 * filters, the `viewerCan*` fields, the mutations, the services and the file routes cannot
 * drift apart. Collection actions are decided on a collection (`decide`), submission actions on
 * a submission and role actions on the caller alone (`decideWork`); see the table in
 * src/access/README.md.
 */
export enum Action {
  // On a collection (or anything under it).
  BROWSE = 'browse',
  /** View pixels: thumbnails and series previews. */
  VIEW_THUMBNAIL = 'view_thumbnail',
  CREATE_DOWNLOAD_LINK = 'create_download_link',
  DOWNLOAD = 'download',
  REQUEST_ACCESS = 'request_access',
  REVIEW_REQUESTS = 'review_requests',
  VIEW_AUDIT_LOG = 'view_audit_log',
  MANAGE_DELEGATES = 'manage_delegates',
  // On a submission.
  VIEW_SUBMISSION = 'view_submission',
  UPLOAD = 'upload',
  PROCESS = 'process',
  RESOLVE_QUARANTINE = 'resolve_quarantine',
  // On the caller's role alone.
  SUBMIT = 'submit',
  CURATE = 'curate',
  DISCARD_STAGED = 'discard_staged',
  RELEASE = 'release',
}

/** The same action under the name the table uses. */
export const VIEW_PIXELS = Action.VIEW_THUMBNAIL;

/** Actions decided on a submission (its submitter; curators and admins on any). */
export const SUBMISSION_ACTIONS: ReadonlySet<Action> = new Set([Action.VIEW_SUBMISSION, Action.UPLOAD, Action.PROCESS, Action.RESOLVE_QUARANTINE]);
/** Actions decided on the caller's roles alone. */
export const ROLE_ACTIONS: ReadonlySet<Action> = new Set([Action.SUBMIT, Action.CURATE, Action.DISCARD_STAGED, Action.RELEASE]);

/** The columns of a submission the policy reads. */
export interface SubmissionRow {
  id: number;
  submitter: string;
}

/** The columns of a collection the policy reads. */
export interface CollectionRow {
  id: number;
  accession: string;
  submitter: string;
  accessibility: Accessibility | string;
  releaseState: ReleaseState | string;
  /**
   * When the target is a series or lies in one (an image, its thumbnail, preview or file): whether
   * that series is published, i.e. passed by a curator in a released collection
   * (src/browse/visibility.ts). Absent when the target is the collection itself.
   */
  published?: boolean | number | null;
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
 * see unreleased work. Release means reviewed: a series added to a released collection stays
 * as unreleased work (unpublished) until a curator passes it.
 */
export function canSee(user: Principal | null, c: CollectionRow): boolean {
  if (isCurator(user) || (!!user && c.submitter === user.id)) return true;
  return c.releaseState === ReleaseState.RELEASED && (c.published == null || !!Number(c.published));
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
  if (SUBMISSION_ACTIONS.has(action) || ROLE_ACTIONS.has(action)) return deny('not a collection action');
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
    default:
      return deny('not a collection action');
  }
}

/**
 * The workflow half of the policy: submitting needs the submitter role (curators and admins
 * have it too); curating, discarding received bytes and releasing need a curator or admin; a
 * submission's own actions (see it, upload to it, process it, resolve its quarantined files)
 * belong to its submitter and to curators and admins. Anonymous callers may do none of them.
 */
export function decideWork(user: Principal | null, action: Action, submission: SubmissionRow | null = null): Decision {
  if (!user) return deny('workflow actions need a signed-in user');
  switch (action) {
    case Action.SUBMIT:
      return hasRole(user, Role.SUBMITTER, Role.CURATOR, Role.ADMIN) ? allow('submitter role') : deny('not a submitter or curator');
    case Action.CURATE:
    case Action.DISCARD_STAGED:
    case Action.RELEASE:
      return isCurator(user) ? allow(hasRole(user, Role.ADMIN) ? 'admin' : 'curator') : deny('not a curator');
    case Action.VIEW_SUBMISSION:
    case Action.UPLOAD:
    case Action.PROCESS:
    case Action.RESOLVE_QUARANTINE:
      if (!submission) return deny('no such submission');
      if (submission.submitter === user.id) return allow('submitter');
      return isCurator(user) ? allow('curator') : deny('not the submitter or a curator');
    default:
      return deny('not a workflow action');
  }
}

/** `decideWork` as a boolean. */
export function canWork(user: Principal | null, action: Action, submission: SubmissionRow | null = null): boolean {
  return decideWork(user, action, submission).allow;
}

/**
 * Throws when `decideWork` denies, by the same rule as `assertCan`: UNAUTHENTICATED anonymous,
 * FORBIDDEN signed in, one message whether the submission is absent, hidden or not permitted.
 */
export function assertCanWork(user: Principal | null, action: Action, submission: SubmissionRow | null, named: string): Principal {
  if (!decideWork(user, action, submission).allow) throw refusal(user, action, named);
  return user!;
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
  [Action.VIEW_SUBMISSION]: 'see',
  [Action.UPLOAD]: 'upload to',
  [Action.PROCESS]: 'process',
  [Action.RESOLVE_QUARANTINE]: 'resolve files of',
  [Action.SUBMIT]: 'submit',
  [Action.CURATE]: 'curate',
  [Action.DISCARD_STAGED]: 'discard received files of',
  [Action.RELEASE]: 'release',
};

export function refusal(user: Principal | null, action: Action, named: string): GraphQLError {
  if (!user) return new UnauthenticatedError(`Sign in to ${VERBS[action]} ${named}.`);
  if (ROLE_ACTIONS.has(action)) return new ForbiddenError(`Only ${action === Action.SUBMIT ? 'submitters and curators' : 'curators'} may ${VERBS[action]} ${named}.`);
  return new ForbiddenError(`There is no ${named} you may ${VERBS[action]}.`);
}
