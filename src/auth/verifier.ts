import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError, UnauthenticatedError } from '../errors.js';
import type { Config } from '../config.js';
import { displayClaim, Role, subjectId, type Principal } from './Principal.js';
import type { PassportVerifier } from '../ga4gh/passport/PassportVerifier.js';
import { remoteJwks } from './remoteJwks.js';

const KNOWN_ROLES = new Set<string>(Object.values(Role));

/** A credential was sent and is not accepted (UNAUTHENTICATED, 401). */
export class AuthenticationError extends UnauthenticatedError {}

/** Verifies bearer tokens against the configured issuer's JWKS (remote) or the local issuer's. */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  /**
   * `jwksCooldownMs`: after a fetch of the remote set, how long a token naming an unknown kid is
   * refused without refetching (so forged kids cannot make us hammer the issuer). The wait for the
   * remote set is bounded by `config.oidc.jwksTimeoutMs`; past it the request is SERVICE_UNAVAILABLE.
   */
  constructor(private readonly config: Config, localJwks: { keys: any[] } | null, private readonly options: { jwksCooldownMs?: number; passports?: PassportVerifier | null } = {}) {
    if (config.oidc.jwksUrl) {
      // jose refetches the remote set when a token names a kid it has not seen (key rotation).
      this.keys = remoteJwks(config.oidc.jwksUrl, 'identity provider', { cooldownMs: options.jwksCooldownMs, timeoutMs: config.oidc.jwksTimeoutMs });
    } else if (localJwks) {
      this.keys = createLocalJWKSet(localJwks);
    } else {
      throw new Error('no JWKS: set OIDC_JWKS_URL or use the local issuer');
    }
  }

  /** Returns the principal for an Authorization header value; null when there is none. */
  async principalFrom(authorization: string | undefined | null): Promise<Principal | null> {
    if (!authorization) return null;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new AuthenticationError('Authorization header must be "Bearer <token>".');
    // A GA4GH passport from a trusted broker is a bearer token too (issue 19).
    if (this.options.passports?.recognizes(match[1]!)) {
      try { return await this.options.passports.principalFrom(match[1]!); } catch (err) {
        // A broker or visa issuer out of reach says nothing about the passport: 503, not 401.
        if (err instanceof ServiceUnavailableError) throw err;
        throw new AuthenticationError((err as Error).message);
      }
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, this.keys, {
        issuer: this.config.oidc.issuer,
        audience: this.config.oidc.audience,
        // Asymmetric algorithms only: "none" and HMAC tokens are refused outright.
        algorithms: ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'],
        clockTolerance: this.config.oidc.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof ServiceUnavailableError) throw err;
      throw new AuthenticationError(describe(err));
    }
    const roles = (Array.isArray(payload.roles) ? payload.roles : typeof payload.role === 'string' ? [payload.role] : [])
      .filter((r): r is Role => typeof r === 'string' && KNOWN_ROLES.has(r));
    return {
      id: subjectId('', payload.sub!),
      name: displayClaim(payload.name),
      email: displayClaim(payload.email),
      institution: displayClaim(payload.institution),
      roles: roles.length ? roles : [Role.RESEARCHER],
    };
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'The token has expired.';
  if (err instanceof errors.JWTClaimValidationFailed) return `The token's "${err.claim}" claim is not accepted.`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm this archive does not accept.';
  if (err instanceof errors.JWKSNoMatchingKey) return 'The token is signed with a key the issuer does not publish.';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  return 'The token is invalid.';
}
