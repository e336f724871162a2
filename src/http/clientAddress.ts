import type http from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** Whether the hop at `addr` (the socket's peer, then each forwarded address in turn) is a trusted proxy. */
export type ProxyTrust = (addr: string, hop: number) => boolean;

/**
 * Compiles OBIA_TRUST_PROXY (addresses, CIDRs, `loopback`, `linklocal`, `uniquelocal`). An entry
 * proxy-addr cannot read stops the hub at start: a typo would silently trust nobody, or be taken
 * for a name.
 */
export function proxyTrust(list: readonly string[]): ProxyTrust | null {
  if (list.length === 0) return null;
  try {
    return proxyAddr.compile([...list]);
  } catch (err) {
    throw new Error(`OBIA_TRUST_PROXY: ${(err as Error).message}`);
  }
}

/**
 * The address of the client behind a request: the socket's peer, or, when that peer is a trusted
 * proxy, the nearest address in X-Forwarded-For that is not one (Fastify's `request.ip` gives the
 * same for HTTP routes, from the same list). Anonymous callers are bounded per this address
 * (graphql-ws connections, query images): behind a proxy without it, every anonymous client
 * shared the proxy's one place, and one of them could take all of it.
 */
export function clientAddress(request: http.IncomingMessage, trust: ProxyTrust | null): string {
  if (!trust) return request.socket.remoteAddress ?? '';
  return proxyAddr(request, trust);
}
