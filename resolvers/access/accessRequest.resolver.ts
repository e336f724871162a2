import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, type SubscriptionHandlerData } from 'type-graphql';
import { approvalValid } from '../../src/access/AccessControl.js';
import { ReviewDecision } from '../../src/access/AccessRequestService.js';
import type { RequestContext } from '../../src/context.js';
import { AccessRequest, AccessRequestState, Collection, User } from '../../src/entities/index.js';
import { Topic } from '../../src/events/pubsub.js';
import { fromPage } from '../types/connection.js';
import { PageArgs } from '../types/PageArgs.js';
import { AccessRequestInput, AuditEventConnection } from './types.js';

type Updated = { requestId: string; collectionAccession: string; requesterId: string; ownerId: string };

@Resolver(() => AccessRequest)
export class AccessRequestResolver {
  @FieldResolver(() => ID, { description: 'The archive\'s id of the request; what reviewAccessRequest and revokeAccess take.' })
  id(@Root() r: AccessRequest) {
    return String(r.id);
  }

  @FieldResolver(() => AccessRequestState, { description: 'EXPIRED once an approval\'s expiresAt has passed.' })
  state(@Root() r: AccessRequest, @Ctx() ctx: RequestContext) {
    return r.state === AccessRequestState.APPROVED && !approvalValid(r, ctx.session.now()) ? AccessRequestState.EXPIRED : r.state;
  }

  @FieldResolver(() => Collection, { description: 'The controlled collection whose files are asked for.' })
  collection(@Root() r: AccessRequest, @Ctx() ctx: RequestContext) {
    return ctx.loaders.collectionById.load(r.collection.id);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The requester as the archive recorded them (name, institution, first seen).' })
  requester(@Root() r: AccessRequest, @Ctx() ctx: RequestContext) {
    return ctx.em.findOne(User, { sub: r.requester });
  }

  @Query(() => [AccessRequest], { description: 'The caller\'s own access requests, newest first.' })
  myAccessRequests(@Ctx() ctx: RequestContext) {
    return ctx.access.requests.mine();
  }

  @Query(() => [AccessRequest], { description: 'Pending requests for every collection the caller owns or is a delegate for (every collection, for admins).' })
  pendingAccessRequests(@Ctx() ctx: RequestContext) {
    return ctx.access.requests.pending();
  }

  @Query(() => AuditEventConnection, { description: 'Access decisions, reviews and downloads of a collection, oldest first; for its owners and admins.' })
  async auditLog(@Arg('collection', { description: 'The collection\'s accession (OBIA + 4 digits).' }) collection: string, @Args() page: PageArgs, @Ctx() ctx: RequestContext) {
    return fromPage(AuditEventConnection, await ctx.access.requests.auditLog(collection, page));
  }

  @Mutation(() => AccessRequest, { description: 'Asks a controlled collection\'s owner for its files.' })
  requestAccess(@Arg('collection', { description: 'The controlled collection\'s accession (OBIA + 4 digits).' }) collection: string, @Arg('input', () => AccessRequestInput, { description: 'Purpose, scope of use, institution and the pledge not to re-identify.' }) input: AccessRequestInput, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.request(collection, input);
  }

  @Mutation(() => AccessRequest, { description: 'Approves (optionally until expiresAt) or rejects a pending request; owners and admins.' })
  reviewAccessRequest(
    @Arg('id', () => ID, { description: 'The request\'s id (AccessRequest.id).' }) id: string,
    @Arg('decision', () => ReviewDecision, { description: 'APPROVE or REJECT.' }) decision: ReviewDecision,
    @Arg('note', () => String, { description: 'Why, shown to the requester and kept in the audit log.', nullable: true }) note: string | null,
    @Arg('expiresAt', () => Date, { description: 'For APPROVE: when access ends (no end when omitted).', nullable: true }) expiresAt: Date | null,
    @Ctx() ctx: RequestContext,
  ) {
    return ctx.access.requests.review(id, decision, note, expiresAt);
  }

  @Mutation(() => AccessRequest, { description: 'Ends an approval at once; download links already made stop working.' })
  revokeAccess(@Arg('id', () => ID, { description: 'The approved request\'s id (AccessRequest.id).' }) id: string, @Arg('note', () => String, { description: 'Why, shown to the requester and kept in the audit log.', nullable: true }) note: string | null, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.revoke(id, note);
  }

  @Mutation(() => Collection, { description: 'Lets another user review this collection\'s requests and read its audit log; the submitter or an admin.' })
  addCollectionDelegate(@Arg('collection', { description: 'The collection\'s accession (OBIA + 4 digits).' }) collection: string, @Arg('user', { description: 'The delegate\'s subject identifier at the issuer (User.id).' }) user: string, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.addDelegate(collection, user);
  }

  @Mutation(() => Collection, { description: 'Withdraws a delegation; the submitter or an admin.' })
  removeCollectionDelegate(@Arg('collection', { description: 'The collection\'s accession (OBIA + 4 digits).' }) collection: string, @Arg('user', { description: 'The delegate\'s subject identifier at the issuer (User.id).' }) user: string, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.removeDelegate(collection, user);
  }

  @Subscription(() => AccessRequest, {
    nullable: true,
    topics: Topic.ACCESS_REQUEST_UPDATED,
    // Each subscriber hears only about their own requests and those they may review.
    filter: ({ payload, context }: SubscriptionHandlerData<Updated, any, RequestContext>) => context.access.requests.concerns(payload),
    description: 'A request was made, decided or revoked: for its requester and for whoever may review it.',
  })
  async accessRequestUpdated(@Root() payload: Updated, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.byId(payload.requestId);
  }
}
