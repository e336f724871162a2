import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
import type { RunningSubgraph } from '../bioproject/server.js';
import type { SubgraphName } from '../composition.js';

interface GatewayContext { authorization?: string }

export interface GatewayOptions {
  port: number;
  supergraphSdl: string;
  /** Where each subgraph really is; defaults to the URLs recorded in the supergraph. */
  urls?: Partial<Record<SubgraphName, string>>;
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
    buildService: ({ name, url }) => new RemoteGraphQLDataSource<GatewayContext>({
      url: opts.urls?.[name as SubgraphName] ?? url,
      willSendRequest({ request, context }) {
        if (name !== 'hub') return;
        if (opts.hubSecret) request.http?.headers.set(GATEWAY_SECRET_HEADER, opts.hubSecret);
        if (context.authorization) request.http?.headers.set('authorization', context.authorization);
      },
    }),
  });
  const server = new ApolloServer<GatewayContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, stop: () => server.stop() };
}
