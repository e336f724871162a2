import type { Writable } from 'node:stream';

/**
 * Until `out` drains or closes: what a route streaming its answer awaits when a write says the
 * client is behind (Fastify destroys the stream when the client goes away, and a destroyed stream
 * never drains, so waiting on 'drain' alone would hang for ever).
 */
export function drained(out: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    if (out.destroyed) return resolve();
    const done = () => { out.off('drain', done); out.off('close', done); resolve(); };
    out.once('drain', done);
    out.once('close', done);
  });
}
