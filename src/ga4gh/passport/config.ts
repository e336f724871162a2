/** A Passport broker the archive trusts: passports it signs are verified against its JWKS. */
export interface TrustedBroker { issuer: string; jwksUrl: string }
/** A visa issuer the archive trusts, and the one JWKS URL (`jku`) its visas may name. */
export interface TrustedVisaIssuer { issuer: string; jku: string }

export interface PassportConfig {
  brokers: TrustedBroker[];
  visaIssuers: TrustedVisaIssuer[];
  clockToleranceSeconds: number;
  /**
   * What this archive answers to in a passport's `aud` (OBIA_PASSPORT_AUDIENCES, comma-separated).
   * A passport without `aud` is for any clearinghouse; one with it only for those it names.
   */
  audiences?: string[];
  /** Distinct visas one passport may carry (MAX_VISAS_PER_PASSPORT by default); more is refused whole. */
  maxVisas?: number;
  /** Longest wait for a broker's or visa issuer's JWKS (src/auth/remoteJwks.ts's default when unset). */
  jwksTimeoutMs?: number;
}

/**
 * Each visa is a signature check (about 0.3 CPU-ms), so a passport of thousands, signed by a broker
 * we trust but filled by whoever assembled it, made every request that carried it that much work.
 * Real passports carry tens. OBIA_PASSPORT_MAX_VISAS changes it.
 */
export const MAX_VISAS_PER_PASSPORT = 200;

function list<T>(raw: string | undefined, name: string, keys: string[]): T[] {
  if (!raw) return [];
  const parsed = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((e) => e && keys.every((k) => typeof e[k] === 'string'))) {
    throw new Error(`${name} must be a JSON array of objects with ${keys.join(' and ')}`);
  }
  return parsed as T[];
}

/**
 * OBIA_PASSPORT_BROKERS='[{"issuer":"https://broker.example","jwksUrl":"https://broker.example/jwks"}]'
 * OBIA_VISA_ISSUERS='[{"issuer":"https://dac.example","jku":"https://dac.example/jwks"}]'
 * Without brokers the archive accepts no passports at all.
 */
export function passportConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PassportConfig {
  return {
    brokers: list<TrustedBroker>(env.OBIA_PASSPORT_BROKERS, 'OBIA_PASSPORT_BROKERS', ['issuer', 'jwksUrl']),
    visaIssuers: list<TrustedVisaIssuer>(env.OBIA_VISA_ISSUERS, 'OBIA_VISA_ISSUERS', ['issuer', 'jku']),
    clockToleranceSeconds: Number(env.OIDC_CLOCK_TOLERANCE ?? 30) || 30,
    audiences: (env.OBIA_PASSPORT_AUDIENCES ?? '').split(',').map((a) => a.trim()).filter(Boolean),
    maxVisas: Number(env.OBIA_PASSPORT_MAX_VISAS) > 0 ? Math.floor(Number(env.OBIA_PASSPORT_MAX_VISAS)) : MAX_VISAS_PER_PASSPORT,
    // The same bound as the OIDC issuer's key set (OIDC_JWKS_TIMEOUT_MS).
    jwksTimeoutMs: Number(env.OIDC_JWKS_TIMEOUT_MS) > 0 ? Math.floor(Number(env.OIDC_JWKS_TIMEOUT_MS)) : undefined,
  };
}
