// Burned-in text (issue 20): OCR of the pixels of every image that may carry text, PHI blanked
// before the file is archived (src/deid/burnedInText). It runs first in the registry, so the
// thumbnail, hash code and metadata are made from the redacted file.
import {
  decideBurnedInHold, needsBurnedInScan, OcrEngine, readIdentifyingAttributes, releasePolicyFromEnv, scanAllFromEnv, scanBurnedInText,
  type BurnedInRecord, type BurnedInScan, type IdentifyingAttributes,
} from '../../deid/burnedInText/index.js';
import { scalar } from '../../dicom/index.js';
import { QcReason } from '../../qc/reasons.js';
import type { DerivedProduct, DeriveSource } from './product.js';

/** What the archive keeps on the image row (image.burned_in_text): the record and the hold's code. */
export interface BurnedInImageRecord extends BurnedInRecord {
  /** BURNED_IN_TEXT or BURNED_IN_OCR_FAILED while the check keeps the image held; null once it let it go. */
  code: QcReason | null;
}

/** The worker half's value: no pixels and no text cross to the main thread. */
export interface BurnedInValue {
  /** The hold de-identification decided, before the scan. */
  heldBefore: string | null;
  scan: Omit<BurnedInScan, 'output'> & { output: null };
  redacted: boolean;
  /** The file itself says text is burned in (BurnedInAnnotation YES). */
  declared: boolean;
}

/** The hold a file has while its check is pending: if the run stops before the verdict is recorded, the image stays held. */
const PENDING = `${QcReason.BURNED_IN_OCR_FAILED}: the burned-in text check did not record a verdict`;
/** held_for_pixel_review is varchar(500). */
const HOLD_MAX = 500;

function timeoutFromEnv(env: DeriveSource['settings']['env']): number {
  const ms = Number(env.OBIA_BURNED_IN_TIMEOUT_MS ?? 30_000);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`OBIA_BURNED_IN_TIMEOUT_MS must be a positive number of milliseconds (got "${env.OBIA_BURNED_IN_TIMEOUT_MS}")`);
  return ms;
}

// One Tesseract engine per ingest worker thread, created when the first file needs a scan
// (ordinary CT/MR never start one) and kept for the thread's life: starting Tesseract and
// loading its language data costs far more than reading one image. The thread's termination
// (piscina's idle timeout, shutdown) ends the engine's own worker threads with it. The thread
// serves every pipeline of the process: a pipeline started with another time limit gets an engine
// of its own.
let engine: { timeoutMs: number; ocr: OcrEngine } | null = null;

function engineFor(timeoutMs: number): OcrEngine {
  if (engine?.timeoutMs !== timeoutMs) {
    void engine?.ocr.close();
    engine = { timeoutMs, ocr: new OcrEngine(timeoutMs) };
  }
  return engine.ocr;
}

async function scan(src: DeriveSource, attrs: IdentifyingAttributes): Promise<BurnedInScan> {
  let ocr: OcrEngine;
  try {
    ocr = engineFor(timeoutFromEnv(src.settings.env));
  } catch (e) {
    return failed(e);
  }
  try {
    return await scanBurnedInText(src.output, attrs, { engine: ocr, redact: src.options.cleanPixelData });
  } catch (e) {
    return failed(e);
  }
}

/** scanBurnedInText reports its own failures; anything else still keeps the image held. */
function failed(e: unknown): BurnedInScan {
  const counts = { words: 0, phi: 0, harmless: 0, text: 0, unread: 0 };
  return { verdict: 'failed', reason: `OCR could not run: ${(e as Error)?.name ?? 'Error'}`, regions: [], counts, frames: [], output: null, transferSyntaxUid: null };
}

export const burnedInText: DerivedProduct<BurnedInValue | null> = {
  name: 'burnedInText',
  // Always wanted: which images are read is decided per file (needsBurnedInScan), and an archive
  // that skipped the check would release text-prone images on de-identification's word alone.
  wanted: () => true,
  async derive(src) {
    // On resume (no received bytes) the file keeps the hold it was stored with: the pending hold
    // below, or de-identification's. Only a first pass, which can still swap the stored bytes, scans.
    const received = src.received;
    if (!received) return null;
    const modality = scalar(src.header.dict['00080060']?.Value);
    if (!needsBurnedInScan(received.heldForPixelReview, typeof modality === 'string' ? modality : null, scanAllFromEnv(src.settings.env))) return null;
    const heldBefore = received.heldForPixelReview;
    const declared = String(scalar(src.header.dict['00280301']?.Value) ?? '').trim().toUpperCase() === 'YES';
    received.heldForPixelReview = heldBefore ? `${heldBefore}; ${PENDING}` : PENDING;
    let attrs: IdentifyingAttributes;
    try {
      // The received header parsed already (de-identification read it): this cannot fail in practice.
      attrs = readIdentifyingAttributes(received.bytes);
    } catch {
      attrs = { names: [], ids: [], dates: [], institutions: [] };
    }
    const result = await scan(src, attrs);
    if (result.output) src.replaceOutput!(result.output);
    return { heldBefore, scan: { ...result, output: null }, redacted: result.output !== null, declared };
  },
  accept(items) {
    const policy = releasePolicyFromEnv();
    for (const { work, value } of items) {
      if (!value) continue;
      // The device says text is burned in and OCR saw none: OCR missed it, so only a curator lifts that hold.
      const { held, record } = decideBurnedInHold(value.heldBefore, value.scan, value.declared && value.scan.verdict === 'clean' ? 'never' : policy);
      const code = held === null ? null : value.scan.verdict === 'failed' ? QcReason.BURNED_IN_OCR_FAILED : value.scan.verdict === 'clean' ? null : QcReason.BURNED_IN_TEXT;
      const hold = held === null ? null : (code ? `${code}: ${held}` : held).slice(0, HOLD_MAX);
      const kept: BurnedInImageRecord = { ...record, redacted: value.redacted, code };
      work.file.heldForPixelReview = hold;
      (work.fileColumns ??= {}).held_for_pixel_review = hold;
      (work.imageColumns ??= {}).burned_in_text = JSON.stringify(kept);
    }
  },
  missing: () => false,
};
