import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { subscriptionListening } from '../../src/http/graphql.js';
import type { TestApp } from './app.js';

export interface LiveSubscription {
  /** Every message received so far, in order (`{ data }`, `{ errors }`, or `{ error }` for a failed connection). */
  events: any[];
  /** The first message (already received or still to come) that `match` accepts. */
  next(match: (event: any) => boolean, what: string): Promise<any>;
  dispose(): Promise<void>;
}

/**
 * Subscribes over graphql-ws and resolves once the hub's event source for it listens (the hub
 * announces that on `subscriptionListening`; graphql-ws itself never acknowledges a subscribe), so
 * whatever the test does next is heard. No sleeps. `limitMs` only bounds a wait that would
 * otherwise hang a broken run; it is a failure, never the expected path.
 */
export async function subscribeLive(app: TestApp, token: string | null, query: string, variables: Record<string, unknown> = {}, limitMs = 30_000): Promise<LiveSubscription> {
  const id = crypto.randomUUID();
  const events: any[] = [];
  const waiters = new Set<{ match: (e: any) => boolean; resolve: (e: any) => void }>();
  const client = createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, generateID: () => id,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
  const received = (event: any) => {
    events.push(event);
    for (const w of waiters) if (w.match(event)) { waiters.delete(w); w.resolve(event); }
  };
  let onListening!: (message: unknown) => void;
  const listening = new Promise<void>((resolve, reject) => {
    onListening = (message) => { if ((message as { id: string }).id === id) resolve(); };
    diagnostics.subscribe(subscriptionListening.name, onListening);
    client.subscribe({ query, variables }, {
      next: received,
      error: (error) => { received({ error }); reject(error instanceof Error ? error : new Error(JSON.stringify(error))); },
      // What it answered before it ended (a refusal's errors) goes with the rejection: subscriptionOutcome reads it.
      complete: () => reject(Object.assign(new Error('the subscription ended before it listened'), { events })),
    });
  });
  const bounded = <T>(promise: Promise<T>, what: string) => {
    let timer!: NodeJS.Timeout;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${limitMs} ms; received ${JSON.stringify(events).slice(0, 600)}`)), limitMs);
      timer.unref(); // a bound, not a reason to keep the process alive
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  };
  try {
    await bounded(listening, 'acknowledgement that the subscription listens');
  } catch (err) {
    await client.dispose();
    throw err;
  } finally {
    diagnostics.unsubscribe(subscriptionListening.name, onListening);
  }
  return {
    events,
    next(match, what) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return bounded(new Promise((resolve) => waiters.add({ match, resolve })), what);
    },
    dispose: async () => { await client.dispose(); },
  };
}

/**
 * What the hub does with a subscription before any event: listens, or ends it, with the code of
 * the error it answered (a subscription refused when it is made: FORBIDDEN, UNAUTHENTICATED).
 */
export async function subscriptionOutcome(app: TestApp, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<{ kind: 'listening' | 'ended'; code?: string }> {
  let live: LiveSubscription;
  try {
    live = await subscribeLive(app, token, query, variables);
  } catch (err) {
    const events: any[] = (err as { events?: any[] }).events ?? [{ error: err }];
    const code = events.map((e) => e.errors?.[0]?.extensions?.code ?? (Array.isArray(e.error) ? e.error[0] : e.error)?.extensions?.code).find(Boolean);
    return code ? { kind: 'ended', code } : { kind: 'ended' };
  }
  await live.dispose();
  return { kind: 'listening' };
}
