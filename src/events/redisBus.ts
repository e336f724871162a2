import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { useTransport } from './pubsub.js';

/**
 * Events across hub replicas: `@graphql-yoga/redis-event-target` under the same `createPubSub`,
 * so publishers and subscription resolvers do not change. Channels are prefixed (`obia:` unless
 * `OBIA_REDIS_PREFIX` says otherwise) because Redis pub/sub channels are global to a server,
 * across its numbered databases: two archives sharing one Redis must not hear each other.
 */
export interface RedisEvents {
  /** Resolves when Redis answers PING (the /ready check); rejects otherwise. */
  ping(): Promise<void>;
  /** Drops this holder; the last one disconnects and puts the in-process bus back. */
  release(): Promise<void>;
}

/**
 * JSON with dates kept: a Date becomes `{"$date": ISO}` and is revived as a Date on the other
 * side (plain JSON would hand subscribers a string where the type says DateTime).
 */
export const eventSerializer = {
  stringify(message: unknown): string {
    return JSON.stringify(message, function replace(this: Record<string, unknown>, key, value) {
      const raw = this[key];
      return raw instanceof Date ? { $date: raw.toISOString() } : value;
    });
  },
  parse(message: string): unknown {
    return JSON.parse(message, (_key, value) =>
      value && typeof value === 'object' && typeof value.$date === 'string' && Object.keys(value).length === 1 ? new Date(value.$date) : value);
  },
};

let holders = 0;
let current: { url: string; publisher: Redis; subscriber: Redis } | null = null;

export async function connectRedisEvents(url: string, log: Logger, prefix = process.env.OBIA_REDIS_PREFIX ?? 'obia:'): Promise<RedisEvents> {
  if (current && current.url !== url) throw new Error('this process already shares its events through another Redis');
  if (!current) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
    const publisher = new Redis(url, options);
    const subscriber = new Redis(url, options);
    const redisLog = log.child({ component: 'events' });
    // ioredis reconnects on its own (a subscriber re-subscribes its channels);; without a listener an 'error' event would end the process.
    // Logged once per outage, not once per reconnect attempt.
    for (const client of [publisher, subscriber]) {
      let down = false;
      client.on('error', (err) => { if (!down) redisLog.warn({ err }, 'redis connection error'); down = true; });
      client.on('ready', () => { if (down) redisLog.info('redis connection back'); down = false; });
    }
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const target = createRedisEventTarget<CustomEvent>({
      // A publish that fails (Redis away past the retries) is logged, not an unhandled rejection:
      // subscribers re-read state on their next event, and submissionProgress leads with "now".
      publishClient: { publish: (channel: string, message: string) => publisher.publish(channel, message).catch((err) => redisLog.warn({ err }, 'event not published')) } as unknown as Redis,
      subscribeClient: guardedSubscriber(subscriber, redisLog),
      serializer: eventSerializer,
    });
    const prefixed = {
      addEventListener: (type: string, cb: unknown) => target.addEventListener(prefix + type, cb as never),
      removeEventListener: (type: string, cb: unknown) => target.removeEventListener(prefix + type, cb as never),
      dispatchEvent: (event: CustomEvent) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: event.detail })),
    };
    useTransport(prefixed as never);
    current = { url, publisher, subscriber };
  }
  holders++;
  const held = current;
  let released = false;
  return {
    async ping() {
      const answer = await held.publisher.ping();
      if (answer !== 'PONG') throw new Error(`redis answered ${answer}`);
    },
    async release() {
      if (released) return;
      released = true;
      if (--holders > 0) return;
      useTransport(null);
      current = null;
      // QUIT waits for Redis to answer; one that has gone away would keep us waiting on reconnects.
      await Promise.all([held.publisher, held.subscriber].map((c) => c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect()));
    },
  };
}

/**
 * The subscribing client as redis-event-target uses it, with its commands' failures handled: the
 * library calls `subscribe` when a topic gets its first listener and `unsubscribe` when it loses its
 * last, and drops both promises, so while Redis is away (past ioredis's retries, or after the client
 * is closed) every GraphQL subscription opened or ended was an unhandled rejection, which ends a
 * Node process. A channel whose SUBSCRIBE failed is subscribed again when the connection is back
 * (ioredis re-subscribes only the channels Redis had confirmed), unless its listeners are gone.
 */
function guardedSubscriber(subscriber: Redis, log: Logger): Redis {
  const wanted = new Set<string>();
  const unconfirmed = new Set<string>();
  const subscribe = (channel: string): void => {
    wanted.add(channel);
    subscriber.subscribe(channel).then(() => unconfirmed.delete(channel), (err) => {
      if (!wanted.has(channel)) return;
      unconfirmed.add(channel);
      log.warn({ err, channel }, 'channel not subscribed; subscribing again when redis is back');
    });
  };
  subscriber.on('ready', () => { for (const channel of [...unconfirmed]) if (wanted.has(channel)) subscribe(channel); });
  return {
    on: (event: string, listener: (...args: unknown[]) => void) => subscriber.on(event, listener),
    subscribe,
    unsubscribe: (channel: string) => {
      wanted.delete(channel);
      unconfirmed.delete(channel);
      // Nothing to undo when it fails: a closed connection holds no subscriptions.
      subscriber.unsubscribe(channel).catch((err) => log.debug({ err, channel }, 'channel not unsubscribed'));
    },
  } as unknown as Redis;
}
