// The worker half of DICOMweb's pixel work (imagingPool.ts): decoding a stored frame and encoding
// what the client asked for happens here, never on the thread that answers every other request.
import { nativeFrame, parseImage } from '../imaging/index.js';
import { renderFrame, type RenderOptions } from './rendered.js';

export type ImagingTask =
  | { task: 'render'; part10: Uint8Array; frameIndex: number; opts: RenderOptions }
  | { task: 'native'; part10: Uint8Array; frameIndex: number };

export type ImagingResult =
  | { ok: true; bytes: Uint8Array; photometricInterpretation?: string }
  | { ok: false; name: string; message: string };

export default async function run(req: ImagingTask): Promise<ImagingResult> {
  try {
    if (req.task === 'render') return { ok: true, bytes: await renderFrame(req.part10, req.frameIndex, req.opts) };
    const frame = await nativeFrame(parseImage(req.part10), req.frameIndex);
    return { ok: true, bytes: frame.bytes, photometricInterpretation: frame.photometricInterpretation };
  } catch (err) {
    // Typed decoding failures cross the thread boundary by name (the main thread maps them to statuses).
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: e.name, message: e.message.slice(0, 300) };
  }
}
