import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyRequest } from 'fastify';
import { getOperationAST, getVariableValues, GraphQLError, validate, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import diagnostics from 'node:diagnostics_channel';
import type http from 'node:http';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/Principal.js';
import type { RequestContext } from '../context.js';
import { BadUserInputError, isExpected, ServiceUnavailableError, TooManySubscriptionsError } from '../errors.js';
import { guardOperation, parseLimited, type QueryLimits } from '../graphql/limits.js';
import type { Logger } from '../log.js';
import type { Door } from './door.js';
import type { RoutePlugin } from './server.js';
import { clientAddress } from './clientAddress.js';

/**
 * The largest GraphQL request body: JSON operations and their variables only. Images for
 * `similarImages` go to `POST /query-images` instead of riding in the JSON as base64.
 */
export const MAX_GRAPHQL_BODY = 1024 * 1024;

export interface SubscriptionLimits {
  perConnection: number;
  /** Across all of a user's connections; anonymous callers are counted by remote address. */
  perUser: number;
  /**
   * Open connections per user (anonymous callers: per remote address). A connection with no
   * subscription is idle by nature and under no timeout, so without it one client could hold
   * sockets until the process runs out of file descriptors (20,000 here), and with them every
   * file, upload and database connection the archive opens.
   */
  connectionsPerUser: number;
}

/** graphql-ws close code for a connection over its user's bound (4429, as HTTP's 429). */
export const TOO_MANY_CONNECTIONS = 4429;

/** WebSocket close code 1013 (RFC 6455 registry, "Try Again Later"): a service the connection needs is unavailable now. */
export const TRY_AGAIN_LATER = 1013;

/**
 * `{ id }` (the graphql-ws subscription id) once a subscription's event source listens. The
 * graphql-ws protocol has no acknowledgement of a subscribe message, so an in-process observer (the
 * test kit) waits on this instead of on time before it causes the events it expects. Costs nothing
 * without a subscriber.
 */
export const subscriptionListening = diagnostics.channel('obia:graphql-ws:subscription-listening');

/**
 * The same events; asking the source for its first one is what makes it listen, and only then is
 * the subscription announced. An iterator object whose return() reaches the source at once, not an
 * async generator: a generator waiting for the next event queues graphql-ws's return() until that
 * event comes, so every subscription a test closed kept listening (and, in a test process running
 * several apps, ran its filter on the next app's events against its own app's closed database).
 */
function announced<T>(id: string, source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const events = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | null = events.next();
  subscriptionListening.publish({ id });
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      const pending = first ?? events.next();
      first = null;
      return pending;
    },
    return: async () => (await events.return?.()) ?? { value: undefined, done: true },
    throw: async (err?: unknown) => { await events.return?.(); throw err; },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** Reads the operation of a GraphQL-over-HTTP request (POST body or GET query string). */
function operationOf(request: FastifyRequest): { query: unknown; variables: unknown; operationName: unknown } | null {
  const params = (request.method === 'GET' ? request.query : request.body) as Record<string, unknown> | null;
  if (!params || typeof params !== 'object' || Array.isArray(params)) return null;
  let variables = params.variables;
  if (typeof variables === 'string') {
    try { variables = JSON.parse(variables); } catch { throw new BadUserInputError('"variables" is not valid JSON.', 'variables'); }
  }
  return { query: params.query, variables, operationName: params.operationName };
}

/**
 * `/graphql` over HTTP: every operation passes the guard (src/graphql/limits.ts) before Apollo
 * parses or validates it, with a JSON body limit of MAX_GRAPHQL_BODY.
 */
export function graphqlRoutes(apollo: ApolloServer<RequestContext>, schema: GraphQLSchema, limits: QueryLimits): RoutePlugin {
  return async (app, door) => {
    // Authenticated in the preHandler, so a bad credential gets the same 401 as on every route
    // (Apollo would answer a failing context function with a 500).
    const principals = new WeakMap<FastifyRequest, Principal | null>();
    const handler = fastifyApolloHandler<RequestContext>(apollo, {
      context: async (request) => door.createContext(request, { recordUser: true, principal: principals.get(request) ?? null }),
    });
    app.route({
      method: ['GET', 'POST'],
      url: '/graphql',
      bodyLimit: MAX_GRAPHQL_BODY,
      preHandler: async (request) => {
        principals.set(request, await door.authenticate(request));
        const op = operationOf(request);
        if (!op || op.query === undefined) return; // Apollo answers a request without a query itself.
        const variables = op.variables && typeof op.variables === 'object' ? op.variables as Record<string, unknown> : {};
        const operationName = typeof op.operationName === 'string' ? op.operationName : null;
        const document = parseLimited(op.query as string, limits);
        guardOperation(schema, document, limits, variables, operationName);
        // Apollo runs a subscription sent over HTTP as a query: each subscription field's resolver
        // then met no event (`accessRequestUpdated`, `qcEvents` threw a TypeError, answered
        // INTERNAL_SERVER_ERROR and logged as our fault). Subscriptions are graphql-ws's.
        if (getOperationAST(document, operationName)?.operation === 'subscription') {
          throw new BadUserInputError('Subscriptions run over graphql-ws on this path (a WebSocket, subprotocol graphql-transport-ws), not over HTTP.', 'query');
        }
      },
      handler,
    });
  };
}

/**
 * graphql-ws on the same path: the same `authenticate` once per connection (a bad token closes
 * it with 4403), the same guard and validation for every operation, the same context builder,
 * the same masking of unexpected errors, and a bound on subscriptions per connection and per user.
 */
export function attachGraphqlWs(server: http.Server, schema: GraphQLSchema, door: Door, limits: QueryLimits, subscriptions: SubscriptionLimits, log: Logger) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_GRAPHQL_BODY });
  const principals = new WeakMap<object, Principal | null>();
  const active = new WeakMap<object, Set<string>>();
  const perUser = new Map<string, number>();
  const connections = new Map<string, number>();
  const connected = new WeakMap<object, string>();
  /** Whose places a connection takes: its user's, or for anonymous callers its remote address's. */
  const keyFor = (principal: Principal | null | undefined, request: http.IncomingMessage) => principal?.id ?? `anonymous@${clientAddress(request, door.trust ?? null)}`;
  const keyOf = (ctx: { extra: { request: http.IncomingMessage } }) => keyFor(principals.get(ctx), ctx.extra.request);

  /** An operation's place back (once: an id already given back is skipped). */
  const giveBack = (ctx: Parameters<typeof keyOf>[0], id: string) => {
    const mine = active.get(ctx);
    if (!mine?.delete(id)) return;
    const key = keyOf(ctx);
    const n = (perUser.get(key) ?? 1) - 1;
    if (n > 0) perUser.set(key, n); else perUser.delete(key);
  };
  // graphql-ws answers an error thrown here by closing the connection with the error's own
  // message (4500); as over HTTP, an unexpected one is logged and the client told no more.
  const internal = (err: unknown) => {
    log.error({ err }, 'unexpected error starting a graphql-ws operation');
    return new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };

  const cleanup = useServer({
    schema,
    onConnect: async (ctx) => {
      let principal;
      try {
        principal = await door.authenticate({ connectionParams: ctx.connectionParams });
      } catch (err) {
        // The identity provider out of reach (its keys timed out) is no verdict on the token:
        // 1013 "try again later", as HTTP answers 503, not graphql-ws's 4403 Forbidden.
        if (err instanceof ServiceUnavailableError) {
          ctx.extra.socket.close(TRY_AGAIN_LATER, err.message.slice(0, 120));
          return false;
        }
        return false;
      }
      // The user is recorded here, once per connection: the subscriptions that follow find them
      // in the directory's cache, so none waits on a write (nor can a burst of them queue 20).
      const key = keyFor(principal, ctx.extra.request);
      const open = connections.get(key) ?? 0;
      if (open >= subscriptions.connectionsPerUser) {
        ctx.extra.socket.close(TOO_MANY_CONNECTIONS, `At most ${subscriptions.connectionsPerUser} connections per user.`);
        return false;
      }
      connections.set(key, open + 1);
      connected.set(ctx, key);
      try {
        await door.createContext({ connectionParams: ctx.connectionParams }, { recordUser: true, principal });
      } catch (err) {
        log.error({ err }, 'unexpected error opening a graphql-ws connection');
        ctx.extra.socket.close(4500, 'Internal server error');
        return false;
      }
      principals.set(ctx, principal);
      active.set(ctx, new Set());
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const mine = active.get(ctx) ?? new Set<string>();
      const key = keyOf(ctx);
      if (mine.size >= subscriptions.perConnection) return [new TooManySubscriptionsError(subscriptions.perConnection, 'connection')];
      if ((perUser.get(key) ?? 0) >= subscriptions.perUser) return [new TooManySubscriptionsError(subscriptions.perUser, 'user')];
      let document;
      try {
        document = parseLimited(payload.query, limits);
        guardOperation(schema, document, limits, payload.variables, payload.operationName);
      } catch (err) {
        return [err instanceof GraphQLError ? err : internal(err)];
      }
      // Coded as Apollo codes them over HTTP: a client handles one error shape whichever transport it uses.
      const errors = validate(schema, document);
      if (errors.length) return errors.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED'));
      const op = getOperationAST(document, payload.operationName);
      if (!op) return [new GraphQLError('The document names no operation to run (or several, without operationName).', { extensions: { code: 'BAD_USER_INPUT' } })];
      const coerced = getVariableValues(schema, op.variableDefinitions ?? [], payload.variables ?? {}, { maxErrors: 20 });
      if (coerced.errors) return coerced.errors.map((e) => coded(e, 'BAD_USER_INPUT'));
      mine.add(id);
      perUser.set(key, (perUser.get(key) ?? 0) + 1);
      try {
        const contextValue = await door.createContext({ connectionParams: ctx.connectionParams }, { recordUser: true });
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      } catch (err) {
        giveBack(ctx, id);
        return [err instanceof GraphQLError ? err : internal(err)];
      }
    },
    onOperation: (_ctx, id, _payload, _args, result) =>
      subscriptionListening.hasSubscribers && Symbol.asyncIterator in Object(result) ? announced(id, result as AsyncIterable<ExecutionResult>) : undefined,
    onComplete: (ctx, id) => giveBack(ctx, id),
    // A closed socket gives back every place its subscriptions held, whether or not their
    // iterators have wound down yet (onComplete above skips ids already given back), so no
    // subscription that cannot end promptly keeps a user from subscribing again.
    onClose: (ctx) => {
      const connectedAs = connected.get(ctx);
      if (connectedAs !== undefined) {
        connected.delete(ctx);
        const left = (connections.get(connectedAs) ?? 1) - 1;
        if (left > 0) connections.set(connectedAs, left); else connections.delete(connectedAs);
      }
      const mine = active.get(ctx);
      if (!mine) return;
      const key = keyOf(ctx);
      const n = (perUser.get(key) ?? mine.size) - mine.size;
      if (n > 0) perUser.set(key, n); else perUser.delete(key);
      mine.clear();
    },
    onError: (_ctx, _id, _payload, errors) => errors.map((e) => maskError(e.toJSON(), e, log)),
    // Every result, a query's or a subscription event's, masked as over HTTP (Apollo's formatError
    // there): graphql-ws sends graphql-js's errors as they are, and an unexpected one carried its
    // message to the client (a database error's: the statement, with a stored value in it).
    onNext: (_ctx, _id, _payload, _args, result) => result.errors?.length
      ? { ...result, errors: result.errors.map((e) => maskError(withCode(e.toJSON()), e, log)) as unknown as GraphQLError[] }
      : undefined,
  }, wss);
  return {
    open: () => [...connections.values()].reduce((a, b) => a + b, 0),
    async close() {
      await cleanup.dispose();
      wss.close();
    },
  };
}

/** The error with the code it would have over HTTP, where Apollo codes what carries none. */
function coded(error: GraphQLError, code: string): GraphQLError {
  return error.extensions?.code ? error : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: { ...error.extensions, code } });
}

/** Apollo's default for an error that names no code: INTERNAL_SERVER_ERROR (maskError then decides whether its message may go out). */
function withCode(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return formatted.extensions?.code ? formatted : { ...formatted, extensions: { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' } };
}

/** Expected errors keep their message and code; anything else is logged (class and stack) and masked. */
export function maskError(formatted: GraphQLFormattedError, error: unknown, log: Logger): GraphQLFormattedError {
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  const code = formatted.extensions?.code;
  // GraphQLErrors are made on purpose (ours, graphql-js's, TypeGraphQL's argument checks).
  if (original instanceof GraphQLError || isExpected(original) || (code && code !== 'INTERNAL_SERVER_ERROR')) return formatted;
  log.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
