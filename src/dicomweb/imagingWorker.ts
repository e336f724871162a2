// The worker half of DICOMweb's pixel work (imagingPool.ts): decoding a stored frame and encoding
// what the client asked for happens here, never on the thread that answers every other request.
import { nativeFrame, parseImage } from '../imaging/index.js';
import { renderFrame, type RenderOptions } from './rendered.js';

export type ImagingTask =
  | { task: 'render'; part10: Uint8Array; frameIndex: number; opts: RenderOptions }
  /** Frames decoded to Explicit VR Little Endian: the file is copied and parsed once for all of them. */
  | { task: 'native'; part10: Uint8Array; frameIndices: number[]; maxBytes: number };

export type ImagingResult =
  | { ok: true; parts: Uint8Array[] }
  | { ok: false; name: string; message: string };

/** More decoded bytes than one answer may hold: refused from the header, before any decoding. */
export const FRAME_BUDGET_ERROR = 'FrameBudgetError';

export default async function run(req: ImagingTask): Promise<ImagingResult> {
  try {
    if (req.task === 'render') return { ok: true, parts: [await renderFrame(req.part10, req.frameIndex, req.opts)] };
    const parsed = parseImage(req.part10);
    const a = parsed.attrs;
    const perFrame = a.rows * a.columns * a.samplesPerPixel * Math.ceil(a.bitsAllocated / 8);
    if (perFrame * req.frameIndices.length > req.maxBytes) {
      return { ok: false, name: FRAME_BUDGET_ERROR, message: `${req.frameIndices.length} frames of this image decode to more than ${req.maxBytes >> 20} MiB: ask for fewer at a time` };
    }
    const parts: Uint8Array[] = [];
    for (const i of req.frameIndices) parts.push(await nativeFrame(parsed, i));
    return { ok: true, parts };
  } catch (err) {
    // Typed decoding failures cross the thread boundary by name (the main thread maps them to statuses).
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: e.name, message: e.message.slice(0, 300) };
  }
}
