import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { listenBounded, maxBacklogFromEnv, type EventBusTarget } from './backlog.js';

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

let target: EventBusTarget = new EventTarget();
let transport: PubSub<Events> = createPubSub<Events>({ eventTarget: target as never });
let shared = false;

const maxBacklog = maxBacklogFromEnv();
/** Progress events are keyed by their submission and carry only its id: one waiting says all that any number would. */
const always = () => true;

export const pubSub: PubSub<Events> = {
  publish: (...args) => transport.publish(...args),
  // Subscribers listen on the target through bounded queues (backlog.ts), but the similarity
  // index: a replica's own reader, which must see every change and keeps up (it updates a map).
  subscribe: ((...args: Parameters<PubSub<Events>['subscribe']>) => {
    const [topic, id] = args as unknown as [keyof Events, string | undefined];
    if (topic === Topic.HASH_CODES) return (transport.subscribe as unknown as (...a: unknown[]) => AsyncIterable<unknown>)(...args);
    // The key createPubSub publishes under: the topic, or "topic:id".
    return listenBounded(target, id === undefined ? topic : `${topic}:${id}`, { max: maxBacklog, coalesce: topic === Topic.SUBMISSION_PROGRESS ? always : undefined });
  }) as PubSub<Events>['subscribe'],
};

/** True while events travel through Redis, i.e. reach every replica (not only this process). */
export function eventsAreShared(): boolean {
  return shared;
}

/**
 * Swaps the event target under `pubSub` (src/events/redisBus.ts does, at start-up, before anyone
 * subscribes); `null` goes back to the in-process bus.
 */
export function useTransport(next: EventBusTarget | null): void {
  target = next ?? new EventTarget();
  transport = createPubSub<Events>({ eventTarget: target as never });
  shared = next !== null;
}
