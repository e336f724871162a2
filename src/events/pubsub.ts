import { createPubSub, type PubSub } from '@graphql-yoga/subscription';

/**
 * The process's event bus for GraphQL subscriptions (graphql-ws) and for what hub replicas tell
 * each other. Topics are typed here so a publisher and its subscribers cannot drift apart;
 * payloads carry ids, and subscription resolvers re-read what the subscriber may see.
 *
 * In-process by default: one hub process serves its own subscribers. With `OBIA_REDIS_URL` the
 * same bus runs over Redis pub/sub (src/events/redisBus.ts), so an event published on one
 * replica reaches subscribers on every replica. Publishers and subscribers hold `pubSub`, a
 * stable facade: which transport is underneath is decided once at start-up.
 */
export const Topic = {
  SUBMISSION_PROGRESS: 'SUBMISSION_PROGRESS',
  QC_EVENTS: 'QC_EVENTS',
  ACCESS_REQUEST_UPDATED: 'ACCESS_REQUEST_UPDATED',
  /** Hash codes stored or removed by one replica, for every other replica's similarity index. */
  HASH_CODES: 'HASH_CODES',
} as const;

/** One replica's changes to the similarity index: `added` entries are [imageId, seriesId, code as 16 hex digits]. */
export interface HashCodesChanged {
  origin: string;
  added: [imageId: number, seriesId: number, code: string][];
  removed: number[];
}

export type Events = {
  SUBMISSION_PROGRESS: [submissionId: string, payload: { submissionId: string }];
  QC_EVENTS: [submissionId: string, payload: { submissionId: string; kind: string; subject: string; message: string; at: Date }];
  ACCESS_REQUEST_UPDATED: [payload: { requestId: string; collectionAccession: string; requesterId: string; ownerId: string }];
  HASH_CODES: [payload: HashCodesChanged];
};

let transport: PubSub<Events> = createPubSub<Events>();
let shared = false;

export const pubSub: PubSub<Events> = {
  publish: (...args) => transport.publish(...args),
  subscribe: ((...args: Parameters<PubSub<Events>['subscribe']>) => (transport.subscribe as (...a: unknown[]) => unknown)(...args)) as PubSub<Events>['subscribe'],
};

/** True while events travel through Redis, i.e. reach every replica (not only this process). */
export function eventsAreShared(): boolean {
  return shared;
}

/**
 * Swaps the transport under `pubSub` (src/events/redisBus.ts does, at start-up, before anyone
 * subscribes); `null` goes back to the in-process bus.
 */
export function useTransport(next: PubSub<Events> | null): void {
  transport = next ?? createPubSub<Events>();
  shared = next !== null;
}
