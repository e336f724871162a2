import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/Principal.js';
import type { TokenVerifier } from '../auth/verifier.js';
import { UnauthenticatedError } from '../errors.js';

/**
 * Where a caller's credentials come from: an HTTP request's headers (GraphQL over HTTP, uploads,
 * downloads, thumbnails, previews, every route to come) or a graphql-ws connection's
 * `connectionParams` (browsers cannot set headers on a WebSocket).
 */
export type Credentials =
  | { headers: IncomingHttpHeaders }
  | { connectionParams?: Readonly<Record<string, unknown>> | null };

export type Authenticate = (request: Credentials) => Promise<Principal | null>;

/** The raw header list of an HTTP request (a Fastify request's `raw`, or the IncomingMessage itself). */
function rawHeadersOf(request: object): string[] | undefined {
  const r = request as { rawHeaders?: unknown; raw?: { rawHeaders?: unknown } };
  const raw = r.raw?.rawHeaders ?? r.rawHeaders;
  return Array.isArray(raw) ? raw as string[] : undefined;
}

function bearerOf(request: Credentials): string | undefined {
  if ('headers' in request) {
    // Node keeps the first of several Authorization headers and drops the rest without a word, while
    // a proxy in front may have checked another: two credentials are refused, not one picked.
    const raw = rawHeadersOf(request);
    let n = 0;
    for (let i = 0; raw && i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') n++;
    if (n > 1) throw new UnauthenticatedError('Send one Authorization header, not several.');
    const value = request.headers.authorization;
    return Array.isArray(value) ? value[0] : value;
  }
  const params = request.connectionParams ?? {};
  const value = params.authorization ?? params.Authorization;
  // As a malformed header over HTTP: a credential that is no string is refused, never taken as
  // anonymous (the client believes it signed in; the connection would quietly see public data only).
  if (value !== undefined && value !== null && typeof value !== 'string') throw new UnauthenticatedError('connectionParams.authorization must be the string "Bearer <token>".');
  if (typeof params.authorization === 'string' && typeof params.Authorization === 'string' && params.authorization !== params.Authorization) {
    throw new UnauthenticatedError('Send one authorization in connectionParams, not two different ones.');
  }
  return typeof value === 'string' ? value : undefined;
}

/**
 * The longest credential taken: Node's own limit on all of an HTTP request's headers (16 KiB), so
 * graphql-ws, whose connection_init may carry 1 MB, takes no longer a token than HTTP can. A 1 MB
 * "token" there was base64-decoded, parsed and hashed as a passport candidate and a JWT.
 */
export const MAX_CREDENTIAL_LENGTH = 16 * 1024;

function boundedBearerOf(request: Credentials): string | undefined {
  const value = bearerOf(request);
  if (value !== undefined && value.length > MAX_CREDENTIAL_LENGTH) throw new UnauthenticatedError(`The credential is longer than ${MAX_CREDENTIAL_LENGTH} characters.`);
  return value;
}

/**
 * The one authentication step of every transport: null for an anonymous caller (no
 * Authorization at all), the verified principal for a valid bearer token, and
 * UnauthenticatedError (401) for anything else — a malformed header or a token that is expired,
 * forged or for another audience is never silently treated as anonymous.
 */
export function authenticator(verifier: TokenVerifier): Authenticate {
  return async (request) => verifier.principalFrom(boundedBearerOf(request));
}
