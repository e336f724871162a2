import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { FRAME_BUDGET_ERROR, type ImagingResult, type ImagingTask } from './imagingWorker.js';
import type { RenderOptions } from './rendered.js';
import { BadUserInputError, NotFoundError, ServiceUnavailableError } from '../errors.js';
import { NO_PIXELS } from './dicomFile.js';

/** A stored frame that cannot be decoded (the archive checked it at ingest, so this is rare): 500 with the reason, logged. */
export class FrameDecodeError extends Error {
  constructor(readonly kind: string, message: string) { super(message); this.name = 'FrameDecodeError'; }
}

let pool: Piscina | null = null;
const MAX_QUEUED = Math.max(1, Number(process.env.OBIA_DICOMWEB_MAX_QUEUED) || 64);

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
    // An instance without Pixel Data (an SR, a presentation state) has nothing to render: the
    // request's mistake, 404, where it was a 500 logged as a fault of the stored file.
    if (out.name === 'NoPixelDataError') throw new NotFoundError(NO_PIXELS);
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

/**
 * Frames of a compressed instance as Explicit VR Little Endian samples (imaging/nativeFrame.ts),
 * in one task on a worker: one copy of the file and one parse for all of them. More than
 * `maxBytes` decoded is 400, decided from the header.
 */
export async function nativeFramesOnWorker(part10: Uint8Array, frameIndices: number[], maxBytes: number): Promise<Buffer[]> {
  try {
    return (await run({ task: 'native', part10, frameIndices, maxBytes })).parts.map(asBuffer);
  } catch (err) {
    if (err instanceof FrameDecodeError && err.kind === FRAME_BUDGET_ERROR) throw new BadUserInputError(err.message, 'frames');
    throw err;
  }
}
