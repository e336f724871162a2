import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { ImagingResult, ImagingTask } from './imagingWorker.js';
import type { RenderOptions } from './rendered.js';
import { BadUserInputError, NotAcceptableError, NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { DicomJson } from '../dicom/index.js';
import type { FrameIndex } from './dicomFile.js';

/** A stored frame that cannot be decoded (the archive checked it at ingest, so this is rare): 500 with the reason, logged. */
export class FrameDecodeError extends Error {
  constructor(readonly kind: string, message: string) { super(message); this.name = 'FrameDecodeError'; }
}

let pool: Piscina | null = null;
const MAX_QUEUED = Math.max(1, Number(process.env.OBIA_DICOMWEB_MAX_QUEUED) || 64);

/**
 * Bytes of stored files the pixel routes may hold at once, read whole for the workers (and copied
 * to them). The queue bounds tasks by count only, and a task holds its whole file: 64 requests for
 * one frame of a 500 MB multi-frame instance each read it and copied it to the pool, 64 GB from
 * 64 tiny requests. Past this many bytes a request is answered 503 before its file is read; one
 * file alone is always admitted, however large (ingest bounds files, 1 GiB by default).
 */
let maxHeldBytes = Math.max(1, Number(process.env.OBIA_DICOMWEB_MAX_HELD_BYTES) || 1 << 30);
let heldBytes = 0;

/**
 * Runs `use` holding `bytes` (a stored file's catalogued size) against the budget above, from
 * before the file is read until its worker task has ended; 503 when the budget is spent.
 */
export async function holdingFile<T>(bytes: number, use: () => Promise<T>): Promise<T> {
  const size = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  if (heldBytes > 0 && heldBytes + size > maxHeldBytes) {
    throw new ServiceUnavailableError('the image decoders hold as much file data as they may: retry shortly');
  }
  heldBytes += size;
  try {
    return await use();
  } finally {
    heldBytes -= size;
  }
}

/** Replaces the held-bytes budget (tests); returns the previous one. */
export function setMaxHeldBytes(bytes: number): number {
  const previous = maxHeldBytes;
  maxHeldBytes = bytes;
  return previous;
}

/**
 * Rendered images, thumbnails and transcoded frames decode whole images (a 40-megapixel radiograph
 * is seconds of codec work) and encode JPEG in JavaScript: on worker threads, one shared queue, so
 * the event loop keeps answering QIDO and metadata meanwhile. One pool per process, made on first
 * use; idle threads retire after 30 s and do not keep the process alive.
 */
function imaging(): Piscina {
  pool ??= new Piscina({
    filename: path.join(__dirname, 'imagingWorker.js'),
    minThreads: 0,
    maxThreads: Math.max(1, Number(process.env.OBIA_DICOMWEB_WORKERS) || os.availableParallelism()),
    idleTimeout: 30_000,
    // Bounded: each queued task holds a copy of its file. Past this many waiting, a request is
    // answered 503 at once rather than queued behind minutes of decoding.
    maxQueue: MAX_QUEUED,
  });
  return pool;
}

async function run(task: ImagingTask): Promise<ImagingResult & { ok: true }> {
  const p = imaging();
  // Checked before queueing (piscina's own refusal is an untyped Error after the copy is made).
  if (p.queueSize >= MAX_QUEUED) throw new ServiceUnavailableError('the image decoders are busy: retry shortly');
  const out = (await p.run(task)) as ImagingResult;
  if (!out.ok) {
    // The request's own mistakes, found where the file was parsed (a frame it does not have, an
    // instance without Pixel Data, a tag it holds no bulk data under, frames that cannot be cut one by one), as they were told
    // when the main thread parsed it.
    if (out.code === 'NOT_FOUND') throw new NotFoundError(out.message);
    if (out.code === 'NOT_ACCEPTABLE') throw new NotAcceptableError(out.message);
    if (out.code === 'BAD_USER_INPUT') throw new BadUserInputError(out.message, out.argument);
    throw new FrameDecodeError(out.name, out.message);
  }
  return out;
}

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** One frame windowed and encoded as JPEG or PNG (rendered.ts renderFrame, on a worker). */
export async function renderOnWorker(part10: Uint8Array, frameIndex: number, opts: RenderOptions): Promise<Buffer> {
  const { parts } = await run({ task: 'render', part10, frameIndex, opts });
  return asBuffer(parts[0]!);
}

/** Where a stored file's frames lie (FrameIndex.ts), found by parsing it on a worker. */
export async function frameIndexOnWorker(part10: Uint8Array): Promise<FrameIndex> {
  return (await run({ task: 'index', part10 })).index!;
}

/** Frames as stored (0-based), cut from the file parsed on a worker; 404 for a frame it does not have. */
export async function storedFramesOnWorker(part10: Uint8Array, frameIndices: number[]): Promise<Buffer[]> {
  return (await run({ task: 'stored', part10, frameIndices })).parts.map(asBuffer);
}

/** A top-level binary attribute's value (dicomFile.ts bulkValue), read on a worker; 404 when there is none. */
export async function bulkValueOnWorker(part10: Uint8Array, tag: string): Promise<Buffer> {
  return asBuffer((await run({ task: 'bulk', part10, tag })).parts[0]!);
}

/** An instance's DICOM JSON made from its file (dicomFile.ts metadataOfFile), on a worker. */
export async function metadataOnWorker(part10: Uint8Array): Promise<DicomJson> {
  return (await run({ task: 'metadata', part10 })).json!;
}

/**
 * Frames of a compressed instance as Explicit VR Little Endian samples (imaging/nativeFrame.ts),
 * in one task on a worker: one copy of the file and one parse for all of them. More than
 * `maxBytes` decoded is 400, decided from the header.
 */
export async function nativeFramesOnWorker(part10: Uint8Array, frameIndices: number[], maxBytes: number): Promise<Buffer[]> {
  return (await run({ task: 'native', part10, frameIndices, maxBytes })).parts.map(asBuffer);
}
