import { startBioProjectSubgraph } from '../../federation/bioproject/server.js';
import { composeSupergraph } from '../../federation/composition.js';
import { startGateway } from '../../federation/gateway/gateway.js';
import { startGsaHumanSubgraph } from '../../federation/gsa-human/server.js';
import { SeedGsaHumanSource } from '../../federation/gsa-human/source.js';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
import { startTestApp, type TestApp } from '../support/app.js';

export const SEED_SCALE = 0.02;
export const SECRET = 'test-gateway-secret';

export interface GqlResult<T = any> { status: number; data?: T; errors?: any[] }

/** POSTs an operation over real HTTP. */
export async function post<T = any>(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GqlResult<T>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as object) };
}

export interface Stack {
  hub: TestApp;
  hubUrl: string;
  gatewayUrl: string;
  /** Through the gateway, optionally as a signed-in user. */
  viaGateway<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  /** Straight to the hub, as the gateway would call it (with the secret). */
  asGateway<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  stop(): Promise<void>;
}

/**
 * The four parts on ephemeral ports: the hub (the app `npm start` runs, seeded, secret set),
 * both reference subgraphs, and the gateway over a freshly composed supergraph.
 */
export async function startStack(): Promise<Stack> {
  const hub = await startTestApp({ seedScale: SEED_SCALE, config: { gatewaySecret: SECRET } });
  const hubUrl = `${hub.url}/graphql`;
  const bioproject = await startBioProjectSubgraph({ port: 0 });
  const gsaHuman = await startGsaHumanSubgraph({ port: 0, source: new SeedGsaHumanSource(SEED_SCALE) });
  const gateway = await startGateway({
    port: 0, supergraphSdl: await composeSupergraph(), hubSecret: SECRET,
    urls: { hub: hubUrl, bioproject: bioproject.url, 'gsa-human': gsaHuman.url },
  });
  const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return {
    hub, hubUrl, gatewayUrl: gateway.url,
    viaGateway: (q, v, token) => post(gateway.url, q, v, auth(token)),
    asGateway: (q, v, token) => post(hubUrl, q, v, { [GATEWAY_SECRET_HEADER]: SECRET, ...auth(token) }),
    async stop() {
      await gateway.stop();
      await Promise.all([bioproject.stop(), gsaHuman.stop()]);
      await hub.stop();
    },
  };
}
