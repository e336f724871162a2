import { createPubSub } from '@graphql-yoga/subscription';

/**
 * The process's event bus for GraphQL subscriptions (graphql-ws). Topics are typed here so a
 * publisher and its subscribers cannot drift apart; payloads carry ids, and subscription
 * resolvers re-read what the subscriber may see.
 *
 * In-process by design: one hub process serves its own subscribers. Several replicas would
 * swap this for a Redis-backed PubSub with the same interface.
 */
export const Topic = {
  SUBMISSION_PROGRESS: 'SUBMISSION_PROGRESS',
  QC_EVENTS: 'QC_EVENTS',
  ACCESS_REQUEST_UPDATED: 'ACCESS_REQUEST_UPDATED',
} as const;

export const pubSub = createPubSub<{
  SUBMISSION_PROGRESS: [submissionId: string, payload: { submissionId: string }];
  QC_EVENTS: [submissionId: string, payload: { submissionId: string; kind: string; subject: string; message: string; at: Date }];
  ACCESS_REQUEST_UPDATED: [payload: { requestId: string; collectionAccession: string; requesterId: string; ownerId: string }];
}>();
