import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { remoteJwks } from '../../auth/remoteJwks.js';
import { ServiceUnavailableError } from '../../errors.js';
import { displayClaim, Role, subjectId, type Principal, type VisaGrant } from '../../auth/Principal.js';
import { logger } from '../../log.js';
import { sha256Hex } from '../../storage/BlobStore.js';
import { MAX_VISAS_PER_PASSPORT, type PassportConfig } from './config.js';

/** Asymmetric algorithms only, as for bearer tokens: "none" and HMAC visas are refused outright. */
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];

export class PassportError extends Error {}

/** Why a visa inside an otherwise valid passport was not honoured. */
export interface RefusedVisa { issuer: string | null; reason: string }

export interface VerifiedPassport { principal: Principal; refused: RefusedVisa[] }

const log = logger.child({ module: 'passports' });

/**
 * How long a verified passport stands without being verified again (never past its own `exp`):
 * a passport of a hundred visas is about 30 CPU-ms of signature checks, and every request that
 * carried one (up to ten copies in a DRS body) paid that again. A broker key withdrawn from its
 * JWKS stops a passport verified with it this long after.
 */
export const VERIFIED_PASSPORT_MS = 60_000;
/** Verified passports kept (by SHA-256 of the token, least recently used out first). */
const VERIFIED_PASSPORTS = 1_000;

/**
 * The archive as a GA4GH Passport clearinghouse (ga4gh/data-security AAI/ga4gh_passport_v1.md,
 * AAIConnectProfile.md): a passport is honoured only when a configured broker signed it; each
 * embedded visa only when a configured visa issuer signed it with a key from the one `jku` that
 * issuer is configured with (an untrusted `jku` is never fetched), it has not expired, it is
 * about the passport's subject and carries no conditions we cannot evaluate.
 * ControlledAccessGrants visas become the principal's `visas` (dataset and expiry).
 */
export class PassportVerifier {
  private readonly brokerKeys = new Map<string, JWTVerifyGetKey>();
  private readonly visaKeys = new Map<string, JWTVerifyGetKey>();
  private readonly verified = new Map<string, { from: number; until: number; result: VerifiedPassport }>();

  constructor(readonly config: PassportConfig) {
    for (const b of config.brokers) this.brokerKeys.set(b.issuer, remoteJwks(b.jwksUrl, 'passport broker', { timeoutMs: config.jwksTimeoutMs }));
  }

  get enabled(): boolean { return this.config.brokers.length > 0; }

  /** Visa issuers whose visas may authorise access (DRS `passport_auth_issuers`). */
  get visaIssuers(): string[] { return this.config.visaIssuers.map((v) => v.issuer); }

  /** Whether a bearer token claims to be a passport from a configured broker (unverified look, to route it). */
  recognizes(token: string): boolean {
    if (!this.enabled) return false;
    try {
      const claims = decodeJwt(token);
      return typeof claims.iss === 'string' && this.brokerKeys.has(claims.iss) && 'ga4gh_passport_v1' in claims;
    } catch {
      return false;
    }
  }

  private visaKeysFor(jku: string): JWTVerifyGetKey {
    let keys = this.visaKeys.get(jku);
    if (!keys) {
      keys = remoteJwks(jku, 'visa issuer', { timeoutMs: this.config.jwksTimeoutMs });
      this.visaKeys.set(jku, keys);
    }
    return keys;
  }

  /** Verifies a passport and its visas; throws PassportError when the passport itself is not acceptable. */
  async verify(passport: string, now = Date.now()): Promise<VerifiedPassport> {
    if (typeof passport !== 'string' || passport.split('.').length !== 3) throw new PassportError('the passport is not a signed JWT');
    const key = sha256Hex(Buffer.from(passport));
    const known = this.verified.get(key);
    if (known && now >= known.from && now < known.until) {
      this.verified.delete(key);
      this.verified.set(key, known);
      return copy(known.result);
    }
    const result = await this.verifyAnew(passport, now);
    this.verified.delete(key);
    this.verified.set(key, { from: now, until: Math.min(now + VERIFIED_PASSPORT_MS, result.principal.expiresAt! * 1000), result: copy(result) });
    while (this.verified.size > VERIFIED_PASSPORTS) this.verified.delete(this.verified.keys().next().value!);
    return result;
  }

  private async verifyAnew(passport: string, now: number): Promise<VerifiedPassport> {
    let unverified: JWTPayload;
    try { unverified = decodeJwt(passport); } catch { throw new PassportError('the passport is not a signed JWT'); }
    const keys = typeof unverified.iss === 'string' ? this.brokerKeys.get(unverified.iss) : undefined;
    if (!keys) throw new PassportError('the passport was not issued by a broker this archive trusts');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(passport, keys, {
        issuer: unverified.iss, algorithms: ALGORITHMS, clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp', 'iat'], currentDate: new Date(now),
      }));
    } catch (err) {
      // The broker out of reach: try again (503), not "invalid" (401).
      if (err instanceof ServiceUnavailableError) throw err;
      throw new PassportError(err instanceof errors.JWTExpired ? 'the passport has expired' : 'the passport signature or claims are not valid');
    }
    // RFC 7519 4.1.3: a passport naming audiences is for them only. One a user gave another service
    // (say, another DRS server) was honoured here too, so that service could replay it to us.
    if (payload.aud !== undefined) {
      const named = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const ours = this.config.audiences ?? [];
      if (!named.some((a) => typeof a === 'string' && ours.includes(a))) throw new PassportError('the passport is for another audience');
    }
    if (!Array.isArray(payload.ga4gh_passport_v1)) throw new PassportError('the passport has no ga4gh_passport_v1 claim');
    // A visa carried twice is one visa: checked, and granting, once. Past the bound the passport is
    // refused before any visa is checked (each is a signature check).
    const visas = [...new Set(payload.ga4gh_passport_v1 as unknown[])];
    const maxVisas = this.config.maxVisas ?? MAX_VISAS_PER_PASSPORT;
    if (visas.length > maxVisas) throw new PassportError(`the passport carries ${visas.length} visas, more than the ${maxVisas} this archive checks`);
    const grants: VisaGrant[] = [];
    const refused: RefusedVisa[] = [];
    for (const visa of visas) {
      const outcome = await this.verifyVisa(visa, payload, now);
      if (outcome && 'reason' in outcome) refused.push(outcome);
      else if (outcome) grants.push(outcome);
    }
    if (refused.length) log.info({ refused: refused.map((r) => `${r.issuer ?? '?'}: ${r.reason}`) }, 'passport visas refused');
    const principal: Principal = {
      // Stable per subject at the broker, and never equal to a local subject (those have no "ga4gh:" prefix).
      id: subjectId('ga4gh:', `${payload.iss!}#${payload.sub!}`),
      name: displayClaim(payload.name),
      email: displayClaim(payload.email),
      institution: null,
      roles: [Role.RESEARCHER],
      visas: grants,
      expiresAt: payload.exp!,
    };
    return { principal, refused };
  }

  /** A ControlledAccessGrants grant, null for visas of other types, or why the visa is refused. */
  private async verifyVisa(visa: unknown, passport: JWTPayload, now: number): Promise<VisaGrant | RefusedVisa | null> {
    if (typeof visa !== 'string') return { issuer: null, reason: 'not a JWT' };
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try { header = decodeProtectedHeader(visa); claims = decodeJwt(visa); } catch { return { issuer: null, reason: 'not a JWT' }; }
    const issuer = typeof claims.iss === 'string' ? claims.iss : null;
    const trusted = this.config.visaIssuers.find((v) => v.issuer === issuer);
    if (!trusted) return { issuer, reason: 'issuer not trusted' };
    // The jku is checked against configuration before anything is fetched from it.
    if (header.jku !== trusted.jku) return { issuer, reason: `jku ${String(header.jku)} is not the one configured for this issuer` };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(visa, this.visaKeysFor(trusted.jku), {
        issuer: trusted.issuer, algorithms: ALGORITHMS, clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp', 'iat'], currentDate: new Date(now),
      }));
    } catch (err) {
      // An issuer out of reach fails the passport (503) rather than drop its grant and cache the
      // passport without it for VERIFIED_PASSPORT_MS: the holder would be refused data they may see.
      if (err instanceof ServiceUnavailableError) throw err;
      return { issuer, reason: err instanceof errors.JWTExpired ? 'expired' : 'signature or claims not valid' };
    }
    if (payload.sub !== passport.sub) return { issuer, reason: 'about another subject than the passport' };
    const body = payload.ga4gh_visa_v1 as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return { issuer, reason: 'no ga4gh_visa_v1 claim' };
    if (body.type !== 'ControlledAccessGrants') return null;
    // AAI: a visa with conditions the clearinghouse cannot evaluate must not be honoured.
    if (body.conditions !== undefined) return { issuer, reason: 'conditions are not supported' };
    if (typeof body.value !== 'string' || !body.value || typeof body.source !== 'string' || typeof body.asserted !== 'number') {
      return { issuer, reason: 'ControlledAccessGrants visa without value, source or asserted' };
    }
    if (body.asserted * 1000 > now + this.config.clockToleranceSeconds * 1000) return { issuer, reason: 'asserted in the future' };
    return { dataset: body.value, source: body.source, issuer: trusted.issuer, exp: Math.min(payload.exp!, passport.exp!) };
  }

  /** The principal for a passport presented as a bearer token (GraphQL, file routes). */
  async principalFrom(passport: string): Promise<Principal> {
    return (await this.verify(passport)).principal;
  }
}

/** A caller's own copy: a principal handed out from the cache is never the cached one. */
function copy(v: VerifiedPassport): VerifiedPassport {
  return { principal: { ...v.principal, roles: [...v.principal.roles], visas: v.principal.visas!.map((g) => ({ ...g })) }, refused: v.refused.map((r) => ({ ...r })) };
}
