import { createHmac } from 'node:crypto';

/** What the archive stores to recognise a returning patient: an HMAC, never the local ID. */
export function localPatientKey(localPatientId: string, secret: string): string {
  return createHmac('sha256', secret).update(`patient:${localPatientId.trim()}`).digest('hex');
}

/**
 * The key a collection's UIDs are remapped under (remapUid): the archive secret's HMAC of the
 * collection's accession. With one key for the whole archive, a submitter who held a copy of
 * someone's image could learn whether the archive held it, in any collection, controlled or
 * unreleased, from their own upload: it came back DUPLICATE ("the archive already holds this
 * SOP instance"), or MIXED_PATIENTS for a study held under another individual. Under a key of its
 * own, a collection's UIDs meet only the same collection's.
 */
export function collectionUidKey(secret: string, collectionAccession: string): string {
  return createHmac('sha256', secret).update(`uid-scope:${collectionAccession}`).digest('hex');
}

const MIN_SHIFT = 365;
const MAX_SHIFT = 3650;

/**
 * Per-individual date shift in days, always into the past, between -365 and -3650.
 * Deterministic so every file of an individual shifts alike and intervals survive;
 * keyed by the secret so the offset cannot be computed from the public accession.
 */
export function dateOffsetDays(individualAccession: string, secret: string): number {
  const digest = createHmac('sha256', secret).update(`date-offset:${individualAccession}`).digest();
  return -(MIN_SHIFT + (digest.readUInt32BE(0) % (MAX_SHIFT - MIN_SHIFT + 1)));
}
