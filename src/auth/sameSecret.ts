import crypto from 'node:crypto';

/**
 * Whether a presented secret equals the configured one, in time that does not depend on where they
 * differ (a `!==` stops at the first differing character, which a caller can time). Both are hashed
 * first, so their lengths do not show either.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
