import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EventEmitter } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { PayloadTooLargeError, RequestTimeoutError, ServiceUnavailableError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Request bodies held in memory now (tests and metrics read it). */
    bodyBudget: BodyBudget;
  }
  interface FastifyContextConfig {
    /**
     * The route reads its body itself, as a stream, and holds none of it in memory (uploads into
     * staging, which bound their own size and are cut by the idle timeout): the budget leaves it be.
     */
    streamsBody?: boolean;
  }
}

/** How much of clients' request bodies the server holds in memory, and how long a client may take to send one. */
export interface BodyLimits {
  /** Bytes of request bodies held in memory at once, every request together. */
  bufferedBytes: number;
  /** After `graceMs`, a body must have arrived at this average rate so far. */
  minBytesPerSecond: number;
  graceMs: number;
}

/** Seconds a client told the server is busy is asked to wait. */
const RETRY_AFTER_S = 5;

function carriesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Every route whose body Fastify reads into memory (GraphQL over HTTP, STOW-RS, query images and
 * each route to come) reads it through one budget, shared by all requests: a body that would take
 * the bytes held past `bufferedBytes` is refused 503 with Retry-After (before its first byte when
 * its Content-Length says so), and a body that arrives slower than `minBytesPerSecond` (after
 * `graceMs`) is refused 408. Before, each route bounded one body (STOW 512 MB) but not how many
 * at once nor how slowly they came, and the bodies were read before their senders were known: a
 * few anonymous clients could make the server hold gigabytes, or hold a connection and its bytes
 * for ever by sending a byte a minute (the idle timeout only cuts a connection that sends nothing).
 * Bytes are counted as they arrive, not as declared, so the budget is the memory really held (the
 * parser's final concatenation briefly holds a second copy).
 */
export function holdBodiesWithin(app: FastifyInstance, limits: BodyLimits): BodyBudget {
  const budget = new BodyBudget();
  const checkEveryMs = Math.max(100, Math.min(1000, limits.graceMs / 2));

  function busy(reply: FastifyReply): ServiceUnavailableError {
    reply.header('retry-after', String(RETRY_AFTER_S));
    return new ServiceUnavailableError(`the server is holding as many request bodies as it may; retry in ${RETRY_AFTER_S} s`);
  }

  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.routeOptions.config?.streamsBody || !carriesBody(request)) return payload;
    const declared = Number(request.headers['content-length']);
    // (A body over its route's own limit, smaller, is refused 413 by Fastify before a byte is read.)
    if (declared > limits.bufferedBytes) throw new PayloadTooLargeError('the request body is larger than the server holds at once', limits.bufferedBytes);
    if (declared > limits.bufferedBytes - budget.held) throw busy(reply);

    let own = 0;
    let received = 0;
    const started = performance.now();
    const release = () => {
      budget.add(-own);
      own = 0;
      clearInterval(pace);
    };
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done: TransformCallback) {
        if (budget.held + chunk.length > limits.bufferedBytes) return done(busy(reply));
        budget.add(chunk.length);
        own += chunk.length;
        received += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        clearInterval(pace);
        done();
      },
    });
    const pace = setInterval(() => {
      const seconds = (performance.now() - started - limits.graceMs) / 1000;
      if (seconds > 0 && received < seconds * limits.minBytesPerSecond) {
        counted.destroy(new RequestTimeoutError(`the request body arrived slower than ${limits.minBytesPerSecond} bytes a second`));
      }
    }, checkEveryMs).unref();
    // Held until the response is over (or the connection is): the handler works on the bytes.
    reply.raw.once('close', release);
    // Not stream.pipeline: it would destroy the request, and with it the socket the refusal is sent on.
    const raw = request.raw;
    raw.once('error', (err) => counted.destroy(err));
    raw.once('close', () => { if (!raw.complete) counted.destroy(new Error('the client closed the connection before the body ended')); });
    counted.once('error', () => { raw.unpipe(counted); clearInterval(pace); });
    raw.pipe(counted);
    return counted;
  });

  return budget;
}

/** The bytes of request bodies held now; emits 'change' (the new total) as they come and go. */
export class BodyBudget extends EventEmitter<{ change: [held: number] }> {
  held = 0;

  add(bytes: number): void {
    if (bytes === 0) return;
    this.held += bytes;
    this.emit('change', this.held);
  }
}
