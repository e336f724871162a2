import jpeg from 'jpeg-js';
import { decodeParsed } from '../imaging/decode.js';
import { PixelDataError } from '../imaging/errors.js';
import { parseImage } from '../imaging/parse.js';
import { encodePng } from '../imaging/png.js';
import { resize } from '../imaging/resize.js';
import { toDisplay8, type Image8 } from '../imaging/window.js';
import { BadRequest, NotFound } from './errors.js';

/** What a rendered or thumbnail request asks for (PS3.18 8.3.5.1.3). */
export interface RenderOptions {
  type: 'image/jpeg' | 'image/png';
  /** Largest width and height, aspect kept. */
  viewport: { width: number; height: number } | null;
  window: { center: number; width: number } | null;
  quality: number;
}

const MAX_VIEWPORT = 4096;

function one(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof s === 'string' ? s : undefined;
}

/** Parses `viewport`, `window` and `quality`; anything malformed is 400 with its name. */
export function renderOptions(query: Record<string, unknown>, type: RenderOptions['type'], defaultSize: number | null): RenderOptions {
  const opts: RenderOptions = { type, viewport: defaultSize ? { width: defaultSize, height: defaultSize } : null, window: null, quality: 90 };
  const viewport = one(query, 'viewport');
  if (viewport !== undefined) {
    const [w, h] = viewport.split(',').map((s) => (s === '' ? NaN : Number(s)));
    if (!Number.isInteger(w) || !Number.isInteger(h) || w! < 1 || h! < 1 || w! > MAX_VIEWPORT || h! > MAX_VIEWPORT) {
      throw new BadRequest(`viewport must be vw,vh with each in 1..${MAX_VIEWPORT}`, 'viewport');
    }
    opts.viewport = { width: w!, height: h! };
  }
  const window = one(query, 'window');
  if (window !== undefined) {
    const [c, w, fn] = window.split(',');
    const center = Number(c), width = Number(w);
    if (c === '' || !Number.isFinite(center) || !Number.isFinite(width) || width <= 0 || (fn !== undefined && fn.toLowerCase() !== 'linear')) {
      throw new BadRequest('window must be center,width[,linear] with a positive width', 'window');
    }
    opts.window = { center, width };
  }
  const quality = one(query, 'quality');
  if (quality !== undefined) {
    if (!/^\d{1,3}$/.test(quality) || Number(quality) < 1 || Number(quality) > 100) throw new BadRequest('quality must be an integer in 1..100', 'quality');
    opts.quality = Number(quality);
  }
  return opts;
}

function fit(img: Image8, box: { width: number; height: number } | null): Image8 {
  if (!box || (img.width <= box.width && img.height <= box.height)) return img;
  const scale = Math.min(box.width / img.width, box.height / img.height);
  return resize(img, Math.max(1, Math.round(img.width * scale)), Math.max(1, Math.round(img.height * scale)));
}

/**
 * One frame of a stored file, windowed (the request's window, else the file's) and fitted to the
 * viewport; 404 for a frame the file does not have (counted here, on the worker that parses it).
 */
export async function renderFrame(part10: Uint8Array, frameIndex: number, opts: RenderOptions): Promise<Buffer> {
  let parsed;
  try {
    parsed = parseImage(part10, frameIndex);
  } catch (err) {
    // As decodeFrame does: whatever the parse throws is a PixelDataError.
    throw err instanceof PixelDataError ? err : new PixelDataError(`failed to decode pixel data: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (frameIndex >= parsed.attrs.numberOfFrames) throw new NotFound(`the instance has ${parsed.attrs.numberOfFrames} frame(s)`);
  const frame = await decodeParsed(parsed, frameIndex);
  if (opts.window && frame.samplesPerPixel === 1) {
    frame.windowCenter = opts.window.center;
    frame.windowWidth = opts.window.width;
  }
  const img = fit(toDisplay8(frame), opts.viewport);
  if (opts.type === 'image/png') return encodePng(img);
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let p = 0, i = 0; p < img.width * img.height; p++) {
    const r = img.data[i]!, g = img.channels === 3 ? img.data[i + 1]! : r, b = img.channels === 3 ? img.data[i + 2]! : r;
    i += img.channels;
    rgba[p * 4] = r; rgba[p * 4 + 1] = g; rgba[p * 4 + 2] = b; rgba[p * 4 + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width: img.width, height: img.height }, opts.quality).data;
}
