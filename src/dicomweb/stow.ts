import { Readable } from 'node:stream';
import type { Principal } from '../auth/Principal.js';
import type { SubmissionService } from '../ingest/SubmissionService.js';
import { elementBudget, frame } from '../dicom/index.js';
import type { Part } from './multipart.js';

/** Data elements one STOW-RS request's parts may hold in all, at least (see storeParts). */
const REQUEST_ELEMENTS = 1_000_000;

/** PS3.18 Table 10.5.3-3 / PS3.4 Annex B failure reasons. */
const CANNOT_UNDERSTAND = 0xc000;
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
 * never straight into a released collection. Parts that are not DICOM, or of another study, are
 * not stored and are listed with their failure reason.
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
  for (const part of parts) {
    n++;
    // One part at a time on the event loop: other requests are answered between them.
    if (n > 1) await new Promise(setImmediate);
    const type = (part.headers['content-type'] ?? 'application/dicom').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/dicom') {
      failed.push(reference(null, null, { '00081197': { vr: 'US', Value: [NOT_DICOM_TYPE] } }));
      continue;
    }
    let sopClass: string | null = null, sopInstance: string | null = null, partStudy: string | null = null;
    const isPart10 = part.body.length > 132 && part.body.toString('latin1', 128, 132) === 'DICM';
    if (isPart10) {
      try {
        // Through the front door's structure check, as every upload is (a truncated part, or one
        // whose lengths lie, is refused here), but not through dcmjs: this runs on the event
        // loop, where parsing a header of hundreds of thousands of elements took seconds, and
        // the identity is three UIDs read from the bytes. Ingest parses the file when it screens it.
        const framed = frame(part.body, { maxElements: Math.max(0, Math.min(budget, elementBudget(part.body.length))) });
        budget -= framed.elements;
        const meta = framed.sourceMeta;
        sopClass = meta['00020002'] || framed.topText('00080016');
        sopInstance = meta['00020003'] || framed.topText('00080018');
        partStudy = framed.topText('0020000D');
      } catch {
        // Not readable: refused below. The walk stopped somewhere, having visited no more
        // elements than fit in the part (8 bytes each, at least).
        budget -= Math.ceil(part.body.length / 8);
      }
    }
    if (!isPart10 || !sopInstance) {
      failed.push(reference(sopClass, sopInstance, { '00081197': { vr: 'US', Value: [CANNOT_UNDERSTAND] } }));
      continue;
    }
    if (study && partStudy !== study) {
      failed.push(reference(sopClass, sopInstance, { '00081197': { vr: 'US', Value: [STUDY_MISMATCH] } }));
      continue;
    }
    await submissions.receive(user, submissionId, Readable.from([part.body]), `stow-rs-${n}.dcm`);
    // No RetrieveURL yet: the instance is retrievable once processed and released, under its de-identified UID.
    referenced.push(reference(sopClass, sopInstance));
  }
  const body: Record<string, unknown> = {};
  if (failed.length) body['00081198'] = { vr: 'SQ', Value: failed };
  if (referenced.length) body['00081199'] = { vr: 'SQ', Value: referenced };
  const status = failed.length === 0 ? 200 : referenced.length === 0 ? 409 : 202;
  return { status, body };
}
