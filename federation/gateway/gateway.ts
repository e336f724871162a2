import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { loadConfig } from '../../src/config.js';
import { ServiceUnavailableError } from '../../src/errors.js';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
import type { QueryLimits } from '../../src/graphql/limits.js';
import { guardedApolloOptions } from '../guard.js';
import type { RunningSubgraph } from '../bioproject/server.js';
import type { SubgraphName } from '../composition.js';

interface GatewayContext { authorization?: string }

export interface GatewayOptions {
  port: number;
  supergraphSdl: string;
  /**
   * Where each subgraph really is; defaults to the URLs recorded in the supergraph. Several URLs
   * (hub replicas, which are stateless) share the subgraph's requests in turn.
   */
  urls?: Partial<Record<SubgraphName, string | string[]>>;
  /** The interface to listen on; all of them unless given (tests: 127.0.0.1). */
  host?: string;
  /** Sent to the hub as x-obia-gateway-secret, which lets the gateway call _entities there. */
  hubSecret?: string | null;
  /** The hub's guard limits, applied here too (default: the hub's, from the environment). */
  limits?: QueryLimits;
  /** Longest wait for one subgraph request (OBIA_GATEWAY_SUBGRAPH_TIMEOUT_MS, default 30 s). */
  subgraphTimeoutMs?: number;
}

/**
 * A subgraph request that gets no answer is abandoned after the timeout: without one a subgraph
 * that accepted the connection and hung held every gateway request that touched it (and its
 * memory) until undici's 5-minute header timeout.
 */
function fetcherWithin(ms: number): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms) });
    } catch (err) {
      // Coded, so the caller reads "try again" (SERVICE_UNAVAILABLE), not a fault of the gateway's (INTERNAL_SERVER_ERROR).
      const name = (err as Error)?.name;
      if (name === 'TimeoutError' || (err instanceof TypeError && err.message === 'fetch failed')) {
        throw new ServiceUnavailableError(name === 'TimeoutError' ? `A data source did not answer within ${ms} ms; try again.` : 'A data source could not be reached; try again.');
      }
      throw err;
    }
  };
}

/**
 * The Apollo gateway over a fixed supergraph (no polling, no hosted registry). The caller's
 * Authorization header travels to the hub, so entity resolution sees the same user as a direct
 * query and applies the same visibility rules.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningSubgraph> {
  const limits = opts.limits ?? loadConfig().limits;
  const fetcher = fetcherWithin(opts.subgraphTimeoutMs ?? (Number(process.env.OBIA_GATEWAY_SUBGRAPH_TIMEOUT_MS) || 30_000));
  const gateway = new ApolloGateway({
    supergraphSdl: opts.supergraphSdl,
    buildService: ({ name, url }) => {
      const given = opts.urls?.[name as SubgraphName] ?? url!;
      const sources = (Array.isArray(given) ? given : [given]).map((u) => new RemoteGraphQLDataSource<GatewayContext>({
        url: u,
        fetcher: fetcher as never,
        willSendRequest({ request, context }) {
          if (name !== 'hub') return;
          if (opts.hubSecret) request.http?.headers.set(GATEWAY_SECRET_HEADER, opts.hubSecret);
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }));
      if (sources.length === 1) return sources[0]!;
      // Round robin: one data source per replica, so concurrent requests never share a mutable URL.
      let next = 0;
      const rotating: GraphQLDataSource<GatewayContext> = { process: (request) => sources[next++ % sources.length]!.process(request) };
      return rotating;
    },
  });
  // The hub's guard here too: the gateway parsed, validated, planned and answered whatever it was
  // sent (20,000 aliases: 0.5 CPU-s; 200 aliased inline introspections, 40 KB: 1.2 CPU-s and a
  // 12 MB answer), the hub seeing only what the plan asked of it. No stack traces.
  const guarded = guardedApolloOptions(limits);
  const server = new ApolloServer<GatewayContext>({ gateway, ...guarded, plugins: guarded.plugins as ApolloServerPlugin<GatewayContext>[] });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, ...(opts.host ? { host: opts.host } : {}) },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, stop: () => server.stop() };
}
