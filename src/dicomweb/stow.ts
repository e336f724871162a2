import { Readable } from 'node:stream';
import type { Principal } from '../auth/Principal.js';
import type { SubmissionService } from '../ingest/SubmissionService.js';
import { UploadError } from '../ingest/staging.js';
import { DicomParseError, elementBudget, frame } from '../dicom/index.js';
import type { Part } from './multipart.js';

/** A zip's first bytes: staging expands such a body into its entries, which a STOW-RS part never is. */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Data elements one STOW-RS request's parts may hold in all, at least (see storeParts). */
const REQUEST_ELEMENTS = 1_000_000;

/** PS3.18 Table 10.5.3-3 / PS3.4 Annex B failure reasons. */
const CANNOT_UNDERSTAND = 0xc000;
const OUT_OF_RESOURCES = 0xa700;
const STUDY_MISMATCH = 0xa900;
const NOT_DICOM_TYPE = 0xc122;

export interface StowOutcome {
  /** 200 every part stored, 202 some, 409 none (PS3.18 10.5.3). */
  status: 200 | 202 | 409;
  /** The Store Instances Response Module (PS3.18 Table 10.5.3-2) as DICOM JSON. */
  body: Record<string, unknown>;
}

function reference(sopClass: string | null, sopInstance: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '00081150': sopClass ? { vr: 'UI', Value: [sopClass] } : { vr: 'UI' },
    '00081155': sopInstance ? { vr: 'UI', Value: [sopInstance] } : { vr: 'UI' },
    ...extra,
  };
}

/**
 * STOW-RS into a submission: each part that is a DICOM Part 10 file (of the study the URL
 * names, when it names one) is staged exactly as a file PUT to the submission's upload URL, so
 * it goes through screening, de-identification and QC when the submission is processed, and
 * never straight into a released collection. Malformed DICOM parts are staged too (screening
 * quarantines them) but answered as failed; parts of another type, of another study, or past the
 * request's element budget are not stored. Every part that is not stored as an instance is listed
 * with its failure reason.
 */
export async function storeParts(
  submissions: SubmissionService, user: Principal, submissionId: number, study: string | null, parts: Part[],
): Promise<StowOutcome> {
  const referenced: Record<string, unknown>[] = [];
  const failed: Record<string, unknown>[] = [];
  let n = 0;
  // The parts' elements are counted against one budget for the request: a file's budget for the
  // request's size, and never under REQUEST_ELEMENTS, so thousands of ordinary instances (a few
  // hundred elements each) fit, while what checking them costs the event loop stays bounded
  // however a hostile body is split into parts (200,000 tiny top-level elements take ≈ 0.3 s).
  let budget = Math.max(REQUEST_ELEMENTS, elementBudget(parts.reduce((sum, p) => sum + p.body.length, 0)));
  // Stages the current part as an upload of it; a refusal of staging's (a quota spent, the disk
  // full, a file past the per-file limit) is that part's failure reason, and the request goes on:
  // it was the whole request's 413, after earlier parts had been staged, so the client could
  // not tell what had been kept.
  const stage = async (body: Buffer): Promise<number | null> => {
    try {
      await submissions.receive(user, submissionId, Readable.from([body]), `stow-rs-${n}.dcm`);
      return null;
    } catch (err) {
      if (!(err instanceof UploadError)) throw err;
      return err.status === 413 || err.status === 507 ? OUT_OF_RESOURCES : CANNOT_UNDERSTAND;
    }
  };
  for (const part of parts) {
    n++;
    // One part at a time on the event loop: other requests are answered between them.
    if (n > 1) await new Promise(setImmediate);
    const type = (part.headers['content-type'] ?? 'application/dicom').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/dicom') {
      failed.push(reference(null, null, { '00081197': { vr: 'US', Value: [NOT_DICOM_TYPE] } }));
      continue;
    }
    // No bytes is no file to keep; a zip would be expanded into its entries by staging (and a
    // damaged one refused the whole request, after earlier parts were staged): neither is one
    // instance. Both are refused unstaged; zips go to the submission's upload URL.
    if (part.body.length === 0 || part.body.subarray(0, 4).equals(ZIP_MAGIC)) {
      failed.push(reference(null, null, { '00081197': { vr: 'US', Value: [CANNOT_UNDERSTAND] } }));
      continue;
    }
    let sopClass: string | null = null, sopInstance: string | null = null, partStudy: string | null = null;
    // The part's share of the request's budget: its own file's budget, unless less of the request's is left.
    const fileBudget = elementBudget(part.body.length);
    const allowed = Math.max(0, Math.min(budget, fileBudget));
    let readable = true;
    try {
      // Through the front door's structure check, as every upload is when it is screened (a
      // bare dataset without the DICM preamble is DICOM there too), but not through dcmjs: this
      // runs on the event loop, where parsing a header of hundreds of thousands of elements took
      // seconds, and the identity is three UIDs read from the bytes.
      const framed = frame(part.body, { maxElements: allowed });
      budget -= framed.elements;
      const meta = framed.sourceMeta;
      sopClass = meta['00020002'] || framed.topText('00080016');
      sopInstance = meta['00020003'] || framed.topText('00080018');
      partStudy = framed.topText('0020000D');
    } catch (err) {
      // The walk stopped somewhere, having visited no more elements than fit in the part (8 bytes each, at least).
      budget -= Math.ceil(part.body.length / 8);
      readable = false;
      // Stopped by what is left of the request's budget, not by the part's own bytes: it may be
      // sound, and nothing is known of it, so it is refused unstaged for the client to send again.
      if (allowed < fileBudget && err instanceof DicomParseError && /data elements/.test(err.reason)) {
        failed.push(reference(null, null, { '00081197': { vr: 'US', Value: [CANNOT_UNDERSTAND] } }));
        continue;
      }
    }
    if (!readable || !sopInstance) {
      // Malformed DICOM (cut short, lengths that lie, no DICM and no data element, no SOP
      // Instance UID) is quarantined, never dropped: staged as any upload is, so screening
      // quarantines it when the submission is processed and curators and the submitter see it
      // there. The answer still lists it as failed (0xC000): it is not stored as an instance,
      // and a client that reads the answer must not take it to be.
      const refused = await stage(part.body);
      failed.push(reference(sopClass, sopInstance, { '00081197': { vr: 'US', Value: [refused ?? CANNOT_UNDERSTAND] } }));
      continue;
    }
    if (study && partStudy !== study) {
      failed.push(reference(sopClass, sopInstance, { '00081197': { vr: 'US', Value: [STUDY_MISMATCH] } }));
      continue;
    }
    const refused = await stage(part.body);
    if (refused) {
      failed.push(reference(sopClass, sopInstance, { '00081197': { vr: 'US', Value: [refused] } }));
      continue;
    }
    // No RetrieveURL yet: the instance is retrievable once processed and released, under its de-identified UID.
    referenced.push(reference(sopClass, sopInstance));
  }
  const body: Record<string, unknown> = {};
  if (failed.length) body['00081198'] = { vr: 'SQ', Value: failed };
  if (referenced.length) body['00081199'] = { vr: 'SQ', Value: referenced };
  const status = failed.length === 0 ? 200 : referenced.length === 0 ? 409 : 202;
  return { status, body };
}
