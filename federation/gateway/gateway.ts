import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
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
}

/**
 * The Apollo gateway over a fixed supergraph (no polling, no hosted registry). The caller's
 * Authorization header travels to the hub, so entity resolution sees the same user as a direct
 * query and applies the same visibility rules.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningSubgraph> {
  const gateway = new ApolloGateway({
    supergraphSdl: opts.supergraphSdl,
    buildService: ({ name, url }) => {
      const given = opts.urls?.[name as SubgraphName] ?? url!;
      const sources = (Array.isArray(given) ? given : [given]).map((u) => new RemoteGraphQLDataSource<GatewayContext>({
        url: u,
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
  const server = new ApolloServer<GatewayContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, ...(opts.host ? { host: opts.host } : {}) },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, stop: () => server.stop() };
}
