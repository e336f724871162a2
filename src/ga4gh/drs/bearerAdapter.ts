import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/Principal.js';
import type { TokenVerifier } from '../../auth/verifier.js';

/**
 * TEMPORARY ADAPTER until the Fastify front door lands: DRS's `authenticate` option over
 * today's bearer-token verification (src/auth/verifier.ts, which also accepts passports from
 * trusted brokers). At merge, pass the server's shared `authenticate(request)` instead and
 * delete this file.
 */
export function bearerAuthenticate(verifier: TokenVerifier): (request: FastifyRequest) => Promise<Principal | null> {
  return (request) => verifier.principalFrom(request.headers.authorization);
}
