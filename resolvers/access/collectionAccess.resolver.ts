import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Action } from '../../src/access/policy.js';
import type { RequestContext } from '../../src/context.js';
import { AccessRequest, AccessRequestState, Collection } from '../../src/entities/index.js';

/** What the caller may do with a collection, and its access requests for those who review them. */
@Resolver(() => Collection)
export class CollectionAccessResolver {
  @FieldResolver(() => Boolean, { description: 'Whether the caller may download this collection\'s files now.' })
  viewerCanDownload(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.control.can(Action.DOWNLOAD, c);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the caller may view thumbnails (pixel data) of this collection\'s images.' })
  viewerCanViewThumbnails(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.control.can(Action.VIEW_THUMBNAIL, c);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the caller may request access (a controlled, released collection they have no approval or pending request for).' })
  viewerCanRequestAccess(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.control.can(Action.REQUEST_ACCESS, c);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the caller may review this collection\'s access requests (its submitter, a delegate, or an admin).' })
  viewerCanReviewRequests(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.control.can(Action.REVIEW_REQUESTS, c);
  }

  @FieldResolver(() => [AccessRequest], { description: 'Access requests for this collection, optionally in one state; for its owners and admins only (FORBIDDEN otherwise).' })
  accessRequests(@Root() c: Collection, @Arg('state', () => AccessRequestState, { description: 'Only requests in this state; every request when omitted.', nullable: true }) state: AccessRequestState | null, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.ofCollection(c, state);
  }

  @FieldResolver(() => [AccessRequest], { description: 'Pending access requests for this collection; for its owners and admins only.' })
  pendingAccessRequests(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.ofCollection(c, AccessRequestState.PENDING);
  }

  @FieldResolver(() => [String], { description: 'Subjects of the users the submitter lets review requests; for its owners and admins only.' })
  delegates(@Root() c: Collection, @Ctx() ctx: RequestContext) {
    return ctx.access.requests.delegates(c);
  }
}
