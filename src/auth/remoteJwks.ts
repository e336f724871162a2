import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError } from '../errors.js';

/** How long a request waits for an identity provider's key set before it is told to try again. */
export const JWKS_TIMEOUT_MS = 5_000;

/**
 * The keys of an issuer this archive trusts (an OIDC provider, a passport broker, a visa issuer)
 * could not be fetched: it timed out, refused the connection, or answered with something that is
 * no key set. The caller's credential may be perfectly good, so this is not UNAUTHENTICATED (401,
 * which tells a client to sign in again: it would drop a valid token and loop) but
 * SERVICE_UNAVAILABLE (503): try again.
 */
export class IdentityProviderUnavailableError extends ServiceUnavailableError {
  constructor(who: string) {
    super(`The ${who}'s signing keys could not be fetched; try again shortly.`);
  }
}

/** Whether jose's remote key set failed on the way to the keys, rather than finding none that fits. */
function upstreamFailed(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  // fetchJwks: a status other than 200, a body that is not JSON (generic JOSEErrors, named by message).
  if (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(err.message)) return true;
  // undici: connection refused or reset, DNS, TLS (its cause says which).
  return err instanceof TypeError && err.message === 'fetch failed';
}

/**
 * jose's remote key set with a bounded wait (`timeoutMs`; jose shares one fetch among the
 * requests waiting for it) whose failures to reach the issuer become
 * IdentityProviderUnavailableError. Without it, an issuer whose JWKS endpoint hung made every
 * signed-in request wait and then answered 401 "The token is invalid.", a valid token's holder
 * told their credential was bad.
 *
 * After a failure, for `retryAfterMs`, no request waits for the issuer again: each verifies
 * against the set last fetched while it is fresh (jose's cacheMaxAge), without refetching for an
 * unknown kid, or is answered unavailable at once. Otherwise every request arriving while the
 * issuer hung started a fetch of its own once the last one had timed out and waited the whole
 * timeout: at a steady rate, rate × timeout requests (sockets, bodies, contexts) piled up.
 */
export function remoteJwks(url: string, who: string, options: { cooldownMs?: number; timeoutMs?: number; retryAfterMs?: number } = {}): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? JWKS_TIMEOUT_MS;
  const retryAfterMs = options.retryAfterMs ?? Math.max(timeoutMs, 5_000);
  const keys = createRemoteJWKSet(new URL(url), { cooldownDuration: options.cooldownMs ?? 30_000, timeoutDuration: timeoutMs });
  let failedAt = -Infinity;
  return async (header, token) => {
    if (Date.now() - failedAt < retryAfterMs) {
      const cached = keys.fresh ? keys.jwks() : undefined;
      if (!cached) throw new IdentityProviderUnavailableError(who);
      try {
        return await createLocalJWKSet(cached)(header, token);
      } catch (err) {
        // A kid the last set lacks may be a key published since (rotation): that is not known until the issuer answers.
        if (err instanceof errors.JWKSNoMatchingKey) throw new IdentityProviderUnavailableError(who);
        throw err;
      }
    }
    try {
      return await keys(header, token);
    } catch (err) {
      if (upstreamFailed(err)) {
        failedAt = Date.now();
        throw new IdentityProviderUnavailableError(who);
      }
      throw err;
    }
  };
}
