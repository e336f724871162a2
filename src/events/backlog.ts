// A subscriber's backlog, bounded. Events wait for a subscriber that has not taken them yet — one
// whose graphql-ws client stopped reading its socket waits for ever on its send — and the bus
// (@graphql-yoga/subscription, a Repeater per subscriber) queued them until 1,024 were pending and
// then threw RepeaterOverflowError from the publisher's dispatch, an uncaught exception that ends
// the process: one client that stopped reading while its submission was processed stopped the hub
// for everyone (test/reliability/subscriberBacklog). A QC event burst (400 quarantines committed at
// once) did the same to a client that was reading but re-checking each event.
//
// Here each subscriber listens on the bus's EventTarget itself and takes every event at once into
// a queue of its own: for a topic whose events only say "look again" (submissionProgress: the
// payload is the submission's id, and the subscriber re-reads the counts) one waiting event stands
// for any number; for the rest, once `max` wait the subscription ends with SUBSCRIBER_TOO_SLOW (the
// client subscribes again; what it missed is in the archive: qcEvents are recorded).
import { SubscriberTooSlowError } from '../errors.js';

export interface BacklogOptions<T> {
  /** Events that may wait for the subscriber before its subscription is ended. */
  max: number;
  /** True when `next` says nothing `waiting` does not: `next` is dropped. */
  coalesce?: (waiting: T, next: T) => boolean;
}

/** The part of an EventTarget the bus uses (in process, or Redis's: src/events/redisBus.ts). */
export type EventBusTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener' | 'dispatchEvent'>;

/** Most events one subscriber may have waiting (OBIA_MAX_SUBSCRIBER_BACKLOG). */
export function maxBacklogFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.OBIA_MAX_SUBSCRIBER_BACKLOG ?? 10_000);
  if (!Number.isInteger(n) || n < 1) throw new Error(`OBIA_MAX_SUBSCRIBER_BACKLOG must be a positive integer (got "${env.OBIA_MAX_SUBSCRIBER_BACKLOG}")`);
  return n;
}

/**
 * The events of type `key` on `target` (their `detail`) through a bounded queue. Lazy as the
 * bus's own iterators are: the first `next()` is what starts listening (submissionProgress asks
 * for it before it reads the current state, so nothing between the two is missed).
 */
export function listenBounded<T>(target: EventBusTarget, key: string, options: BacklogOptions<T>): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let listening = false;
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const rouse = () => { const w = wake; wake = null; w?.(); };
  const stop = () => {
    if (listening) target.removeEventListener(key, listener);
    listening = false;
    ended = true;
    rouse();
  };
  function listener(event: Event): void {
    if (ended) return;
    const value = (event as CustomEvent<T>).detail;
    const last = queue.at(-1);
    if (last !== undefined && options.coalesce?.(last, value)) return;
    if (queue.length >= options.max) {
      failure = new SubscriberTooSlowError(options.max);
      stop();
      return;
    }
    queue.push(value);
    rouse();
  }

  const iterator: AsyncIterableIterator<T> = {
    async next() {
      if (!listening && !ended) { target.addEventListener(key, listener); listening = true; }
      while (queue.length === 0 && !ended) await new Promise<void>((resolve) => { wake = resolve; });
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      if (failure) { const f = failure; failure = null; throw f; }
      return { value: undefined, done: true };
    },
    async return() {
      queue.length = 0;
      failure = null;
      stop();
      return { value: undefined, done: true };
    },
    async throw(err?: unknown) {
      await iterator.return!();
      throw err;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
