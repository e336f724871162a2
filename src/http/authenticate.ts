import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/Principal.js';
import type { TokenVerifier } from '../auth/verifier.js';

/**
 * Where a caller's credentials come from: an HTTP request's headers (GraphQL over HTTP, uploads,
 * downloads, thumbnails, previews, every route to come) or a graphql-ws connection's
 * `connectionParams` (browsers cannot set headers on a WebSocket).
 */
export type Credentials =
  | { headers: IncomingHttpHeaders }
  | { connectionParams?: Readonly<Record<string, unknown>> | null };

export type Authenticate = (request: Credentials) => Promise<Principal | null>;

function bearerOf(request: Credentials): string | undefined {
  if ('headers' in request) {
    const value = request.headers.authorization;
    return Array.isArray(value) ? value[0] : value;
  }
  const params = request.connectionParams ?? {};
  const value = params.authorization ?? params.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The one authentication step of every transport: null for an anonymous caller (no
 * Authorization at all), the verified principal for a valid bearer token, and
 * UnauthenticatedError (401) for anything else — a malformed header or a token that is expired,
 * forged or for another audience is never silently treated as anonymous.
 */
export function authenticator(verifier: TokenVerifier): Authenticate {
  return (request) => verifier.principalFrom(bearerOf(request));
}
