import type { BurnedInScan, BurnedInVerdict, RedactedRegion } from './scan';

/**
 * When an OCR verdict may lift the hold for pixel review (OBIA_BURNED_IN_RELEASE):
 * - never: only a curator lifts it; OCR still blanks what it finds and shows the regions;
 * - clean (default): a clean verdict lifts it; redacted images wait for a curator to confirm;
 * - redacted: a clean verdict, or a redaction with nothing left unread, lifts it.
 */
export type BurnedInReleasePolicy = 'never' | 'clean' | 'redacted';

export function releasePolicyFromEnv(env: NodeJS.ProcessEnv = process.env): BurnedInReleasePolicy {
  const v = (env.OBIA_BURNED_IN_RELEASE ?? 'clean').trim().toLowerCase();
  if (v === 'never' || v === 'clean' || v === 'redacted') return v;
  throw new Error(`OBIA_BURNED_IN_RELEASE must be never, clean or redacted (got "${v}")`);
}

/** What the archive keeps about the check: JSON-able, no text, for the curator's preview and the audit. */
export interface BurnedInRecord {
  verdict: BurnedInVerdict;
  reason: string | null;
  regions: RedactedRegion[];
  counts: BurnedInScan['counts'];
  frames: number[];
  /** Whether the stored file is the redacted one. */
  redacted: boolean;
}

/**
 * The main-thread half: given the hold de-identification decided (null when the image was not
 * held) and the OCR scan (or why none ran), the hold that stands and the record to keep. A
 * scan that failed, timed out or left text unread never lifts a hold; it adds its reason to it.
 */
export function decideBurnedInHold(held: string | null, scan: BurnedInScan, policy: BurnedInReleasePolicy): { held: string | null; record: BurnedInRecord } {
  const record: BurnedInRecord = { verdict: scan.verdict, reason: scan.reason, regions: scan.regions, counts: scan.counts, frames: scan.frames, redacted: scan.output !== null };
  const join = (why: string) => (held ? `${held}; ${why}` : why);
  switch (scan.verdict) {
    case 'clean':
      return { held: policy === 'never' ? held : null, record };
    case 'redacted':
      return { held: policy === 'redacted' && scan.counts.unread === 0 ? null : join(`${scan.reason}: a curator confirms the redaction`), record };
    case 'needs-review':
    case 'failed':
      return { held: join(scan.reason ?? 'burned-in text check did not finish'), record };
  }
}

/** OBIA_BURNED_IN_SCAN: `held` (default) scans what a hold rule holds plus text-prone modalities; `all` scans every image (OCR costs about half a CPU second an image). */
export function scanAllFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.OBIA_BURNED_IN_SCAN ?? 'held').trim().toLowerCase();
  if (v === 'held' || v === 'all') return v === 'all';
  throw new Error(`OBIA_BURNED_IN_SCAN must be held or all (got "${v}")`);
}

/** Whether an image's pixels go through OCR: every image a hold rule holds, plus whatever the deployment adds. */
export function needsBurnedInScan(held: string | null, modality: string | null, scanAll: boolean): boolean {
  if (held !== null || scanAll) return true;
  // Modalities whose pixels routinely carry screen text even when no hold rule fires.
  return ['US', 'OT', 'SC', 'XC', 'ES', 'DOC', 'IVUS'].includes((modality ?? '').toUpperCase());
}
