// The worker half of DICOMweb's pixel work (imagingPool.ts): decoding a stored frame and encoding
// what the client asked for happens here, never on the thread that answers every other request.
// So does every parse of a stored file through dcmjs (frame indexes, frames the index cannot
// place, bulk data): its cost grows with the header, and a released file of 20,000 sequence
// items took 0.35 s of the event loop per request for one frame or one bulk value.
import { nativeFrame, parseImage } from '../imaging/index.js';
import { NoPixelDataError } from '../imaging/errors.js';
import type { DicomJson } from '../dicom/index.js';
import { bulkValue, framesOf, indexFrames, metadataOfFile, NO_PIXELS, type FrameIndex } from './dicomFile.js';
import { renderFrame, type RenderOptions } from './rendered.js';

export type ImagingTask =
  | { task: 'render'; part10: Uint8Array; frameIndex: number; opts: RenderOptions }
  /** Frames decoded to Explicit VR Little Endian: the file is copied and parsed once for all of them. */
  | { task: 'native'; part10: Uint8Array; frameIndices: number[]; maxBytes: number }
  /** Where the file's frames lie (FrameIndex.ts). */
  | { task: 'index'; part10: Uint8Array }
  /** Frames as stored, cut from the parsed file (those the index cannot place). */
  | { task: 'stored'; part10: Uint8Array; frameIndices: number[] }
  /** One top-level binary attribute's value (dicomFile.ts bulkValue). */
  | { task: 'bulk'; part10: Uint8Array; tag: string }
  /** The instance's DICOM JSON made from its file (dicomFile.ts metadataOfFile). */
  | { task: 'metadata'; part10: Uint8Array };

export type ImagingResult =
  | { ok: true; parts: Uint8Array[]; index?: FrameIndex; json?: DicomJson }
  /**
   * `code`: the archive error code (src/errors.ts) of a refusal made here, with the argument it
   * names, for the main thread to answer as it is.
   */
  | { ok: false; name: string; message: string; code?: string; argument?: string };

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function frameCountRefusal(count: number, indices: number[]): ImagingResult | null {
  return indices.some((i) => i >= count) ? { ok: false, name: 'NotFound', code: 'NOT_FOUND', message: `the instance has ${count} frame(s)` } : null;
}

export default async function run(req: ImagingTask): Promise<ImagingResult> {
  try {
    switch (req.task) {
      case 'render': return { ok: true, parts: [await renderFrame(req.part10, req.frameIndex, req.opts)] };
      case 'index': return { ok: true, parts: [], index: indexFrames(asBuffer(req.part10)) };
      case 'bulk': return { ok: true, parts: [bulkValue(req.part10, req.tag)] };
      case 'metadata': return { ok: true, parts: [], json: metadataOfFile(req.part10) };
      case 'stored': {
        const frames = framesOf(req.part10);
        return frameCountRefusal(frames.numberOfFrames, req.frameIndices) ?? { ok: true, parts: req.frameIndices.map((i) => frames.frame(i)) };
      }
      case 'native': {
        const parsed = parseImage(req.part10);
        const a = parsed.attrs;
        const refused = frameCountRefusal(a.numberOfFrames, req.frameIndices);
        if (refused) return refused;
        const perFrame = a.rows * a.columns * a.samplesPerPixel * Math.ceil(a.bitsAllocated / 8);
        if (perFrame * req.frameIndices.length > req.maxBytes) {
          // More decoded bytes than one answer may hold: refused from the header, before any decoding.
          return { ok: false, name: 'FrameBudgetError', code: 'BAD_USER_INPUT', argument: 'frames', message: `${req.frameIndices.length} frames of this image decode to more than ${req.maxBytes >> 20} MiB: ask for fewer at a time` };
        }
        const parts: Uint8Array[] = [];
        for (const i of req.frameIndices) parts.push(await nativeFrame(parsed, i));
        return { ok: true, parts };
      }
    }
  } catch (err) {
    // Typed decoding failures cross the thread boundary by name (the main thread maps them to
    // statuses); the archive's own refusals (404 no such bulk data, 406 bit-packed frames) by code.
    // An instance without Pixel Data (an SR, a presentation state) has nothing to render: the
    // request's mistake (404), as framesOf says it on the main thread, not a fault of the stored file.
    if (err instanceof NoPixelDataError) return { ok: false, name: 'NotFound', code: 'NOT_FOUND', message: NO_PIXELS };
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { extensions?: { code?: unknown } }).extensions?.code;
    return { ok: false, name: e.name, message: e.message.slice(0, 300), ...(typeof code === 'string' ? { code } : {}) };
  }
}
