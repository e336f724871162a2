import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import { codeForStatus, codeOf, isExpected, statusOf } from '../errors.js';
import { holdBodiesWithin } from './bodyBudget.js';
import type { Door } from './door.js';
import { capConnections } from './connectionCap.js';

/** A route family: one Fastify plugin, given the door (src/http/door.ts) as its options. */
export type RoutePlugin = FastifyPluginAsync<Door>;

/** Statuses an error of our own may carry through as is: client errors, and "try later" / "disk full". */
function passesThrough(status: number): boolean {
  return status < 500 || status === 503 || status === 507;
}

/** Largest request body a route accepts unless it says otherwise (uploads stream past it). */
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Longest path segment the router matches as a parameter. */
const MAX_PARAM_LENGTH = 512;

/**
 * The router matches no route when a parameter is longer than MAX_PARAM_LENGTH, so such a request
 * would meet "not found" (a long WADO-RS frame list, a pasted token): a client should learn that
 * the address is too long, not that the thing is absent.
 */
function hasOverlongSegment(url: string): boolean {
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).split('/').some((segment) => segment.length > MAX_PARAM_LENGTH);
}

/**
 * Builds the HTTP server: one Fastify instance, one error handler, one not-found handler, and the
 * route families given, each registered once. A new family (DICOMweb, DRS, the portal) is one
 * more plugin in that list (see README "Adding a route").
 */
export async function buildHttpServer(door: Door, plugins: RoutePlugin[]): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: door.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Request start/end lines at info level would be one write per request; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Route params are DICOM UIDs and tokens: at most 64 and a few hundred characters.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A request whose client has gone away should not keep working for nobody.
    return503OnClosing: true,
    // request.ip is the client behind a trusted reverse proxy (OBIA_TRUST_PROXY), else the socket's peer.
    trustProxy: door.trust ?? false,
    // Fastify's default is no timeout at all (and Node's requestTimeout off): a socket idle this long is closed.
    connectionTimeout: door.config.limits.idleTimeoutMs,
    // An idle keep-alive connection ends by the keep-alive timeout, which clients are told of
    // (Keep-Alive: timeout=…), never by the idle timeout, which they are not: a client reusing a
    // pooled connection the idle timeout had just cut would see "other side closed".
    keepAliveTimeout: Math.min(72_000, Math.floor(door.config.limits.idleTimeoutMs / 2)),
    // Errors the router raises before any route runs (a malformed percent-escape, FST_ERR_BAD_URL)
    // skip setErrorHandler: Fastify answered them itself with its own code and the path echoed back.
    // The one vocabulary instead, and never the path.
    frameworkErrors: (err, request, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      const code = codeForStatus(status);
      const message = err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid: a malformed percent-escape or not UTF-8' : 'the request could not be routed';
      (reply as unknown as FastifyReply).code(status).send(request.url.startsWith('/graphql') ? { errors: [{ message, extensions: { code } }] } : { error: message, code });
    },
  });

  app.setNotFoundHandler((request, reply) => {
    if (hasOverlongSegment(request.url)) {
      reply.code(414).send({ error: `a path segment is longer than ${MAX_PARAM_LENGTH} characters`, code: 'URI_TOO_LONG' });
      return;
    }
    reply.code(404).send(request.url.startsWith('/graphql')
      ? { errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] }
      : { error: 'not found', code: 'NOT_FOUND' });
  });

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    let status: number;
    let message: string;
    if (isExpected(err)) {
      status = statusOf(err);
      message = err.message;
    } else if (typeof (err as unknown as { status?: unknown }).status === 'number' && passesThrough((err as unknown as { status: number }).status)) {
      // Errors of the pipeline's own (UploadError: quotas, zip bombs, a full staging disk) carry the status they mean.
      status = (err as unknown as { status: number }).status;
      message = err.message;
    } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
      // Fastify's own refusals (body too large, bad content type, malformed JSON): its messages name no values.
      status = (err as FastifyError).statusCode!;
      message = err.message;
    } else {
      request.log.error({ err, method: request.method, route: request.routeOptions.url }, 'unexpected error');
      status = 500;
      message = 'internal server error';
    }
    const code = isExpected(err) ? codeOf(err) : codeForStatus(status);
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    // A GraphQL refusal made before Apollo (the guard) carries its extensions (argument, maximum) as Apollo's would.
    const extensions = isExpected(err) ? { ...(err as { extensions?: Record<string, unknown> }).extensions, code } : { code };
    reply.code(status).send(request.url.startsWith('/graphql')
      ? { errors: [{ message, extensions }] }
      : { error: message, code });
  });

  const { bufferedBodyBytes, minBodyBytesPerSecond, bodyGraceMs, connectionsPerAddress, maxConnections } = door.config.limits;
  capConnections(app.server, { perAddress: connectionsPerAddress, total: maxConnections, trust: door.trust ?? null });
  app.decorate('bodyBudget', holdBodiesWithin(app, { bufferedBytes: bufferedBodyBytes, minBytesPerSecond: minBodyBytesPerSecond, graceMs: bodyGraceMs }));

  for (const plugin of plugins) await app.register(plugin, door);
  return app;
}
