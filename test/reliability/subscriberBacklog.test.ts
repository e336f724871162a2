// A subscriber that stops taking its events (a graphql-ws client that stops reading its socket
// blocks its subscription's sends) must neither stop the hub nor make it hold every event
// published meanwhile. The bus threw RepeaterOverflowError from the publisher's dispatch once
// 1,024 events were pending for one subscriber: an uncaught exception, which ends the process.
// Progress events, which only say "look again", now wait one at a time; other topics end the
// subscription with SUBSCRIBER_TOO_SLOW once the bound is reached.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenBounded } from '../../src/events/backlog.js';
import { pubSub, Topic } from '../../src/events/pubsub.js';
import { maxBacklogFromEnv } from '../../src/events/backlog.js';
import { SubscriberTooSlowError } from '../../src/errors.js';

const PUBLISHED = 20_000;

/** Everything the subscriber takes once it reads again, until it ends or nothing more is waiting. */
async function drain<T>(it: AsyncIterator<T>, first: Promise<IteratorResult<T>>): Promise<{ taken: number; error: unknown }> {
  let taken = 0;
  try {
    let r = await first;
    while (!r.done) {
      taken++;
      // Nothing more arrives: what was waiting has been taken.
      const next = it.next();
      const idle = new Promise<'idle'>((resolve) => setImmediate(() => setImmediate(() => resolve('idle'))));
      const got = await Promise.race([next, idle]);
      if (got === 'idle') { void it.return?.(); break; }
      r = got;
    }
    return { taken, error: null };
  } catch (error) {
    return { taken, error };
  }
}

describe('events waiting for a subscriber that is not reading', () => {
  it('submission progress: 20,000 published while it was not reading wait as one', async () => {
    const it = pubSub.subscribe(Topic.SUBMISSION_PROGRESS, 'backlog-1')[Symbol.asyncIterator]();
    const first = it.next(); // listening from here, as the resolver does before reading the current state
    for (let i = 0; i < PUBLISHED; i++) pubSub.publish(Topic.SUBMISSION_PROGRESS, 'backlog-1', { submissionId: 'backlog-1' });
    await new Promise(setImmediate);
    const { taken, error } = await drain(it, first);
    assert.equal(error, null);
    assert.ok(taken >= 1 && taken <= 2, `taken ${taken} of ${PUBLISHED}`);
  });

  it('QC events: past the bound the subscription ends with SUBSCRIBER_TOO_SLOW, having delivered what waited, in order', async () => {
    const it = pubSub.subscribe(Topic.QC_EVENTS, 'backlog-2')[Symbol.asyncIterator]();
    const first = it.next();
    for (let i = 0; i < PUBLISHED; i++) pubSub.publish(Topic.QC_EVENTS, 'backlog-2', { submissionId: 'backlog-2', kind: 'QUARANTINED', subject: `file ${i}`, message: 'm', at: new Date(0) });
    await new Promise(setImmediate);
    const { taken, error } = await drain(it, first);
    assert.ok(error instanceof SubscriberTooSlowError, `ended with ${String(error)}`);
    assert.equal((error as SubscriberTooSlowError).extensions.code, 'SUBSCRIBER_TOO_SLOW');
    assert.equal(taken, maxBacklogFromEnv(), 'what waited, up to the bound, was delivered before the end');
  });

  it('a subscriber that keeps up gets every event in order, and stops listening once it returns', async () => {
    const target = new EventTarget();
    const it = listenBounded<number>(target, 'numbers', { max: 10 });
    const seen: number[] = [];
    const reader = (async () => { for (let r = await it.next(); !r.done; r = await it.next()) { seen.push(r.value); if (seen.length === 5000) await it.return!(); } })();
    await new Promise(setImmediate);
    for (let i = 0; i < 5000; i++) {
      target.dispatchEvent(new CustomEvent('numbers', { detail: i }));
      await new Promise(setImmediate); // the reader takes each before the next: it keeps up
    }
    await reader;
    assert.deepEqual(seen, Array.from({ length: 5000 }, (_, i) => i));
    let heard = 0;
    target.addEventListener('numbers', () => heard++);
    target.dispatchEvent(new CustomEvent('numbers', { detail: -1 }));
    assert.equal(heard, 1, 'only the test\'s own listener is left');
  });
});
