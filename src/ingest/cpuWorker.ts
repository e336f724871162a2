// The CPU-bound half of the pipeline (DICOM parsing, de-identification, thumbnails), run in
// worker threads so a multi-core machine works on several files at once while the main
// thread keeps the database and the HTTP server responsive.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { deidentify, readSourceIdentity, type DeidContext } from '../deid/index.js';
import { renderThumbnail } from '../imaging/index.js';
import { transferSyntaxOf } from './dicomMeta.js';
import type { CpuRequest, CpuResponse, MetadataFields } from './cpuTasks.js';

const FIELDS: (keyof MetadataFields)[] = [
  'StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'Modality', 'BodyPartExamined', 'StudyDescription',
  'SeriesDescription', 'SeriesNumber', 'InstanceNumber', 'Rows', 'Columns', 'NumberOfFrames', 'BitsAllocated', 'StudyDate', 'PatientAge',
];

function plain(v: unknown): unknown {
  if (Array.isArray(v)) return plain(v[0]);
  if (v && typeof v === 'object' && 'Alphabetic' in (v as object)) return (v as { Alphabetic: unknown }).Alphabetic;
  return v === undefined || v === null || typeof v === 'object' ? null : v;
}

async function handle(req: CpuRequest): Promise<CpuResponse> {
  let bytes: Buffer;
  try { bytes = fs.readFileSync(req.path); } catch { return { id: req.id, error: { kind: 'missing', message: 'the received bytes are no longer in the staging area' } }; }
  if (bytes.length === 0) return { id: req.id, error: { kind: 'empty', message: 'the file is empty (0 bytes)' } };
  try {
    if (req.task === 'identify') return { id: req.id, identity: readSourceIdentity(bytes) };
    const result = deidentify(bytes, req.ctx as DeidContext);
    const ds = result.dataset as Record<string, unknown>;
    const fields = Object.fromEntries(FIELDS.map((f) => [f, plain(ds[f])])) as unknown as MetadataFields;
    let thumbnail: Buffer | null = null;
    let thumbnailError: string | null = null;
    if (req.thumbnail) {
      try { thumbnail = await renderThumbnail(result.output, { maxSize: 128 }); } catch (e) { thumbnailError = (e as Error)?.name ?? 'Error'; }
    }
    return {
      id: req.id,
      deid: { output: result.output, heldForPixelReview: result.heldForPixelReview, fields, transferSyntaxUid: transferSyntaxOf(result.output), thumbnail, thumbnailError },
    };
  } catch (e) {
    const err = e as Error & { reason?: string };
    // Only DicomParseError's reason is shown to submitters: other messages may quote file contents.
    return { id: req.id, error: err?.name === 'DicomParseError' ? { kind: 'parse', message: err.reason ?? 'unparseable' } : { kind: 'internal', message: err?.name ?? 'Error' } };
  }
}

parentPort!.on('message', (req: CpuRequest) => {
  handle(req).then((res) => {
    const transfer = res.deid ? [res.deid.output, res.deid.thumbnail].filter((b): b is Buffer => !!b).map((b) => b.buffer as ArrayBuffer) : [];
    // Buffers from a pool may share one ArrayBuffer; only transfer those that are wholly theirs.
    const own = res.deid ? transfer.filter((ab, i, all) => all.indexOf(ab) === i && [res.deid!.output, res.deid!.thumbnail].some((b) => b && b.byteOffset === 0 && b.byteLength === ab.byteLength)) : [];
    parentPort!.postMessage(res, own);
  });
});
