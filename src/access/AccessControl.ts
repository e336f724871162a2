import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/Principal.js';
import { Accessibility } from '../domain.js';
import { AccessRequest, AccessRequestState } from '../entities/AccessRequest.js';
import { CollectionDelegate } from '../entities/CollectionDelegate.js';
import { AuditLog } from './AuditLog.js';
import { visaGrantedCollections } from '../ga4gh/passport/grants.js';
import { Action, assertCan, decide, decideWork, refusal, ROLE_ACTIONS, SUBMISSION_ACTIONS, type CollectionFacts, type CollectionRow, type Decision, type SubmissionRow } from './policy.js';

interface ViewerFacts { delegate: boolean; approved: boolean; pending: boolean; viaVisa?: boolean }

const NONE: ViewerFacts = { delegate: false, approved: false, pending: false };

/** An approval counts while it is APPROVED and its expiry (if any) lies ahead. */
export function approvalValid(r: Pick<AccessRequest, 'state' | 'expiresAt'>, now = new Date()): boolean {
  return r.state === AccessRequestState.APPROVED && (!r.expiresAt || r.expiresAt.getTime() > now.getTime());
}

const COMBINATIONS: ViewerFacts[] = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => ({ delegate: !!(n & 1), approved: !!(n & 2), pending: !!(n & 4) }));

/** The decision when it is the same whatever the caller's facts are; null when they matter. */
export function settledWithoutFacts(user: Principal | null, action: Action, collection: CollectionRow): boolean | null {
  const first = decide(user, action, { collection, ...COMBINATIONS[0]! }).allow;
  return COMBINATIONS.every((f) => decide(user, action, { collection, ...f }).allow === first) ? first : null;
}

/** Submission and role actions: decided on the caller (and the submission), never on a collection. */
function isWork(action: Action): boolean {
  return SUBMISSION_ACTIONS.has(action) || ROLE_ACTIONS.has(action);
}

/** Actions whose decisions are audited whatever the collection's accessibility. */
const ALWAYS_AUDITED = new Set([Action.CREATE_DOWNLOAD_LINK, Action.DOWNLOAD, Action.REVIEW_REQUESTS]);

/**
 * The policy for one request: loads what it needs to know about the caller (delegations,
 * approvals, pending requests) for many collections in one query each, decides, and audits
 * enforced decisions on controlled data, reviews and downloads.
 */
export class AccessControl {
  readonly audit: AuditLog;
  private readonly viewerFacts: DataLoader<number, ViewerFacts>;

  /**
   * `now`: the app's clock (AccessModule.now). Expiry of approvals and links is read from it, so a
   * test can move time past an expiry instead of waiting for it.
   */
  constructor(private readonly em: EntityManager, readonly user: Principal | null, readonly now: () => Date = () => new Date()) {
    this.audit = new AuditLog(em, user);
    this.viewerFacts = new DataLoader(async (ids) => {
      if (!user) return ids.map(() => NONE);
      const [delegations, requests, visaGranted] = await Promise.all([
        em.find(CollectionDelegate, { userSub: user.id, collection: { $in: [...ids] } }),
        em.find(AccessRequest, { requester: user.id, collection: { $in: [...ids] }, state: { $in: [AccessRequestState.PENDING, AccessRequestState.APPROVED] } }),
        visaGrantedCollections(em, user, ids),
      ]);
      const now = this.now();
      return ids.map((id) => ({
        delegate: delegations.some((d) => d.collection.id === id),
        approved: requests.some((r) => r.collection.id === id && approvalValid(r, now)) || visaGranted.has(id),
        viaVisa: visaGranted.has(id),
        pending: requests.some((r) => r.collection.id === id && r.state === AccessRequestState.PENDING),
      }));
    });
  }

  async facts(collection: CollectionRow | null | undefined): Promise<CollectionFacts | null> {
    if (!collection) return null;
    return { collection, ...(await this.viewerFacts.load(collection.id)) };
  }

  /**
   * Whether the caller may: what `viewerCan*` fields report. Not audited (nothing was attempted).
   * When no combination of the caller's facts could change the answer (anonymous callers,
   * curators, open data for signed-in users, …) it is given without querying them.
   */
  async can(action: Action, collection?: CollectionRow | SubmissionRow | null): Promise<boolean> {
    if (isWork(action)) return decideWork(this.user, action, (collection as SubmissionRow | null) ?? null).allow;
    if (!collection) return false;
    const row = collection as CollectionRow;
    const settled = settledWithoutFacts(this.user, action, row);
    if (settled !== null) return settled;
    return decide(this.user, action, await this.facts(row)).allow;
  }

  /**
   * Enforces the policy before a service reads or writes: throws UNAUTHENTICATED or FORBIDDEN
   * (never revealing whether `named` exists) and audits decisions on controlled data, reviews
   * and downloads, allowed or not.
   */
  async assertCan(action: Action, target: CollectionRow | SubmissionRow | null | undefined, named: string): Promise<Decision> {
    if (isWork(action)) {
      const decision = decideWork(this.user, action, (target as SubmissionRow | null) ?? null);
      if (!decision.allow) throw refusal(this.user, action, named);
      return decision;
    }
    const collection = target as CollectionRow | null | undefined;
    const facts = await this.facts(collection);
    const decision = decide(this.user, action, facts);
    if (ALWAYS_AUDITED.has(action) || collection?.accessibility === Accessibility.CONTROLLED || action === Action.REQUEST_ACCESS) {
      await this.audit.record({ action, collectionId: collection?.id ?? null, resource: named, allow: decision.allow, reason: decision.reason });
    }
    return assertCan(this.user, action, facts, named);
  }

  /** Forgets cached facts, after a mutation changed the caller's requests or delegations. */
  clear(): void {
    this.viewerFacts.clearAll();
  }
}
