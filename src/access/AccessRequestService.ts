import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import { hasRole, Role } from '../auth/Principal.js';
import { decodeCursor, pageSize, toPage, type Page, type PageArgs } from '../browse/pagination.js';
import { AccessRequest, AccessRequestState, AuditEvent, Collection, CollectionDelegate } from '../entities/index.js';
import { pubSub, Topic } from '../events/pubsub.js';
import type { AccessControl } from './AccessControl.js';
import { Action, refusal } from './policy.js';
import { BadUserInputError, ConflictError, ForbiddenError, QuotaExceededError } from '../errors.js';
import { boundedText, TEXT_LIMITS } from '../freeText.js';
import { lockEntityRow, lockUserRow, transition } from '../db/transitions.js';

export enum ReviewDecision { APPROVE = 'APPROVE', REJECT = 'REJECT' }

export interface AccessRequestInput {
  purpose: string;
  scopeOfUse: string;
  institution: string;
  pledgeNotToReidentify: boolean;
}

const badInput = (message: string, argument: string) => new BadUserInputError(message, argument);

/**
 * Delegates one collection may have: a lab's or a consortium's members. The list is one field
 * (`Collection.delegates`, unpaged), read whole by every owner's page, so it is bounded.
 */
export const MAX_DELEGATES = 200;

/**
 * Requests one researcher may have waiting at once, over all collections (one per collection).
 * Each lands in an owner's review queue and on their subscription: without a bound one script
 * filled an owner's queue with copies of one request.
 */
export const MAX_PENDING_REQUESTS = 50;

/**
 * Access requests for controlled collections: researchers ask, owners (the submitter or a
 * delegate) and admins decide, approve with an optional expiry, and revoke. Every decision
 * is audited and published to `accessRequestUpdated` subscribers.
 */
export class AccessRequestService {
  constructor(private readonly em: EntityManager, private readonly access: AccessControl) {}

  private get user() { return this.access.user; }

  private async collectionByAccession(accession: string): Promise<Collection | null> {
    return this.em.findOne(Collection, { accession });
  }

  private async publish(request: AccessRequest): Promise<void> {
    const collection = request.collection.getEntity();
    pubSub.publish(Topic.ACCESS_REQUEST_UPDATED, {
      requestId: String(request.id), collectionAccession: collection.accession, requesterId: request.requester, ownerId: collection.submitter,
    });
  }

  async request(accession: string, input: AccessRequestInput): Promise<AccessRequest> {
    const collection = await this.collectionByAccession(accession);
    await this.access.assertCan(Action.REQUEST_ACCESS, collection, `collection ${accession}`);
    if (input.pledgeNotToReidentify !== true) {
      throw badInput('A request must pledge not to attempt to re-identify anyone (pledgeNotToReidentify: true).', 'pledgeNotToReidentify');
    }
    const text = {
      purpose: boundedText(input.purpose, 'purpose', TEXT_LIMITS.accessRequestText),
      scopeOfUse: boundedText(input.scopeOfUse, 'scopeOfUse', TEXT_LIMITS.accessRequestText),
      institution: boundedText(input.institution, 'institution', TEXT_LIMITS.institution),
    };
    const requester = this.user!.id;
    const request = await this.em.transactional(async (tx) => {
      // Counted under the requester's row, so requests sent together are counted one after another.
      await lockUserRow(tx, requester);
      const waiting = await tx.findOne(AccessRequest, { requester, collection: collection!.id, state: AccessRequestState.PENDING }, { fields: ['id'] });
      // As the policy answers a request sent after the first was stored (it was read before the lock).
      if (waiting) throw refusal(this.user, Action.REQUEST_ACCESS, `collection ${accession}`);
      const pending = await tx.count(AccessRequest, { requester, state: AccessRequestState.PENDING });
      if (pending >= MAX_PENDING_REQUESTS) {
        throw new QuotaExceededError(`You have ${pending} access requests waiting for review, the most one may have: wait for decisions first.`, MAX_PENDING_REQUESTS);
      }
      return tx.create(AccessRequest, {
        collection: collection!, requester, ...text, pledgeNotToReidentify: true,
        state: AccessRequestState.PENDING, createdAt: new Date(), updatedAt: new Date(),
      });
    });
    this.access.clear();
    await this.publish(request);
    return request;
  }

  /** A request by id if the caller may review it; the same refusal whether it is absent or not theirs. */
  private async reviewable(id: string): Promise<AccessRequest> {
    const n = Number(id);
    const request = Number.isSafeInteger(n) && n > 0 ? await this.em.findOne(AccessRequest, { id: n }, { populate: ['collection'] }) : null;
    await this.access.assertCan(Action.REVIEW_REQUESTS, request?.collection.getEntity() ?? null, `access request ${id}`);
    return request!;
  }

  async review(id: string, decision: ReviewDecision, note: string | null | undefined, expiresAt: Date | null | undefined): Promise<AccessRequest> {
    const request = await this.reviewable(id);
    // A researcher made a delegate while their request waits could approve it themselves, and the
    // approval outlives the delegation: whoever decides a request is never who made it.
    if (request.requester === this.user!.id) {
      await this.access.audit.record({
        action: decision === ReviewDecision.APPROVE ? 'approve_request' : 'reject_request',
        collectionId: request.collection.id, resource: `access request ${id} by ${request.requester}`, allow: false, reason: 'own request',
      });
      throw new ForbiddenError('You may not review your own access request; another owner, delegate or an admin decides it.');
    }
    if (request.state !== AccessRequestState.PENDING) {
      throw new ConflictError(`Access request ${id} is ${request.state}; only PENDING requests can be reviewed.`);
    }
    if (expiresAt && decision === ReviewDecision.APPROVE && expiresAt.getTime() <= this.access.now().getTime()) {
      throw badInput('"expiresAt" must lie in the future.', 'expiresAt');
    }
    // One conditional UPDATE: of reviews sent together (approve and reject, or approve twice) one
    // decides; the others get CONFLICT, as a review after the decision does (above), and neither
    // audit nor announce a decision they did not make.
    const set = {
      state: decision === ReviewDecision.APPROVE ? AccessRequestState.APPROVED : AccessRequestState.REJECTED,
      decisionNote: note?.trim() || null, reviewer: this.user!.id, reviewedAt: new Date(),
      expiresAt: decision === ReviewDecision.APPROVE ? expiresAt ?? null : null, updatedAt: new Date(),
    };
    await transition(this.em, request, { from: [AccessRequestState.PENDING], set, what: `Access request ${id}` });
    await this.access.audit.record({
      action: decision === ReviewDecision.APPROVE ? 'approve_request' : 'reject_request',
      collectionId: request.collection.id, resource: `access request ${id} by ${request.requester}`, allow: true,
      reason: request.expiresAt ? `until ${request.expiresAt.toISOString()}` : (decision === ReviewDecision.APPROVE ? 'until revoked' : 'rejected'),
    });
    await this.publish(request);
    return request;
  }

  /** Ends an approval at once: links already handed out stop working, since downloads re-check it. */
  async revoke(id: string, note: string | null | undefined): Promise<AccessRequest> {
    const request = await this.reviewable(id);
    if (request.state !== AccessRequestState.APPROVED) {
      throw new ConflictError(`Access request ${id} is ${request.state}; only approvals can be revoked.`);
    }
    const set = { state: AccessRequestState.REVOKED, decisionNote: note?.trim() || request.decisionNote, reviewer: this.user!.id, reviewedAt: new Date(), updatedAt: new Date() };
    await transition(this.em, request, { from: [AccessRequestState.APPROVED], set, what: `Access request ${id}` });
    await this.access.audit.record({
      action: 'revoke_access', collectionId: request.collection.id, resource: `access request ${id} by ${request.requester}`, allow: true, reason: 'revoked',
    });
    await this.publish(request);
    return request;
  }

  async mine(): Promise<AccessRequest[]> {
    if (!this.user) throw refusal(null, Action.REQUEST_ACCESS, 'your access requests');
    return this.em.find(AccessRequest, { requester: this.user.id }, { orderBy: { id: 'desc' }, populate: ['collection'] });
  }

  /** Requests for one collection, for whoever may review them; refused (not empty) for others. */
  async ofCollection(collection: Collection, state?: AccessRequestState | null): Promise<AccessRequest[]> {
    if (!(await this.access.can(Action.REVIEW_REQUESTS, collection))) throw refusal(this.user, Action.REVIEW_REQUESTS, `collection ${collection.accession}`);
    return this.em.find(AccessRequest, { collection, ...(state ? { state } : {}) }, { orderBy: { id: 'asc' } });
  }

  /** Pending requests across every collection the caller owns or is a delegate for (all, for admins). */
  async pending(): Promise<AccessRequest[]> {
    const user = this.user;
    if (!user) throw refusal(null, Action.REVIEW_REQUESTS, 'access requests');
    const where: any = { state: AccessRequestState.PENDING };
    if (!hasRole(user, Role.ADMIN)) {
      const delegated = await this.em.find(CollectionDelegate, { userSub: user.id });
      where.collection = { $or: [{ submitter: user.id }, { id: { $in: delegated.map((d) => d.collection.id) } }] };
    }
    return this.em.find(AccessRequest, where, { orderBy: { id: 'asc' }, populate: ['collection'] });
  }

  async addDelegate(accession: string, userSub: string): Promise<Collection> {
    const collection = await this.collectionByAccession(accession);
    await this.access.assertCan(Action.MANAGE_DELEGATES, collection, `collection ${accession}`);
    const sub = boundedText(userSub, 'user', TEXT_LIMITS.userId);
    // Under the collection's row lock: additions sent together are counted one after the other, so
    // they cannot all pass the bound, and the same delegate twice is added once (the unique key
    // would otherwise refuse the second as an internal error).
    const added = await this.em.transactional(async (tx) => {
      await lockEntityRow(tx, 'collection', collection!.id);
      if (await tx.findOne(CollectionDelegate, { collection: collection!.id, userSub: sub })) return false;
      const held = await tx.count(CollectionDelegate, { collection: collection!.id });
      if (held >= MAX_DELEGATES) throw new QuotaExceededError(`The collection has ${held} delegates, the most it may have; remove one first.`, MAX_DELEGATES);
      tx.create(CollectionDelegate, { collection: collection!.id, userSub: sub, addedBy: this.user!.id, addedAt: new Date() });
      return true;
    });
    if (added) await this.access.audit.record({ action: 'add_delegate', collectionId: collection!.id, resource: `delegate ${sub}`, allow: true, reason: 'added' });
    return collection!;
  }

  async removeDelegate(accession: string, userSub: string): Promise<Collection> {
    const collection = await this.collectionByAccession(accession);
    await this.access.assertCan(Action.MANAGE_DELEGATES, collection, `collection ${accession}`);
    const removed = await this.em.nativeDelete(CollectionDelegate, { collection: collection!, userSub });
    if (removed) await this.access.audit.record({ action: 'remove_delegate', collectionId: collection!.id, resource: `delegate ${userSub}`, allow: true, reason: 'removed' });
    return collection!;
  }

  async delegates(collection: Collection): Promise<string[]> {
    if (!(await this.access.can(Action.REVIEW_REQUESTS, collection))) throw refusal(this.user, Action.REVIEW_REQUESTS, `collection ${collection.accession}`);
    return (await this.em.find(CollectionDelegate, { collection }, { orderBy: { id: 'asc' } })).map((d) => d.userSub);
  }

  /** The audit log of one collection, oldest first, for its owners and admins. */
  async auditLog(accession: string, args: PageArgs): Promise<Page<AuditEvent>> {
    const collection = await this.collectionByAccession(accession);
    if (!(await this.access.can(Action.VIEW_AUDIT_LOG, collection))) throw refusal(this.user, Action.VIEW_AUDIT_LOG, `collection ${accession}`);
    const size = pageSize(args.first);
    const afterId = decodeCursor('audit', args.after);
    const rows = size === 0 ? [] : await this.em.find(AuditEvent, { collectionId: collection!.id, id: { $gt: afterId } }, { orderBy: { id: 'asc' }, limit: size + 1 });
    return toPage('audit', rows, size, afterId, () => this.em.count(AuditEvent, { collectionId: collection!.id }));
  }

  /** Whether a subscriber should hear about a request: its requester, and whoever may review it. */
  async concerns(payload: { requestId: string; requesterId: string; collectionAccession: string }): Promise<boolean> {
    const user = this.user;
    if (!user) return false;
    if (payload.requesterId === user.id) return true;
    // A fresh unit of work: the subscription's context lives as long as the connection.
    const em = this.em.fork();
    const collection = await em.findOne(Collection, { accession: payload.collectionAccession });
    if (!collection) return false;
    if (hasRole(user, Role.ADMIN) || collection.submitter === user.id) return true;
    return !!(await em.findOne(CollectionDelegate, { collection, userSub: user.id }));
  }

  async byId(id: string): Promise<AccessRequest | null> {
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return null;
    return this.em.fork().findOne(AccessRequest, { id: n }, { populate: ['collection'] });
  }
}
