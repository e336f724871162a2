/**
 * The everyday changes a query image goes through before it reaches similarImages — saved
 * again as JPEG, or resized by a viewer or a script — used by `npm run eval:retrieval` to
 * measure how far they move a code.
 */
import * as jpeg from 'jpeg-js';
import { decodeJpeg } from './decode';
import type { Gray8Image } from './preprocess';

/** Encode as a JPEG of the given quality and decode again with the server's decoder. */
export function reencodeJpeg(img: Gray8Image, quality: number): Promise<Gray8Image> {
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i];
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  const { data } = jpeg.encode({ data: rgba, width: img.width, height: img.height }, quality);
  return decodeJpeg(data);
}

/**
 * Bilinear resize by a factor (pixel centres aligned, edges clamped), the default of most
 * image tools; rounded to 8 bits.
 */
export function resizeBilinear(img: Gray8Image, factor: number): Gray8Image {
  const w = Math.max(1, Math.round(img.width * factor)), h = Math.max(1, Math.round(img.height * factor));
  const out = new Uint8Array(w * h);
  const sx = img.width / w, sy = img.height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, img.height - 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, img.width - 1), tx = fx - x0;
      const d = img.data;
      const top = d[y0 * img.width + x0] * (1 - tx) + d[y0 * img.width + x1] * tx;
      const bot = d[y1 * img.width + x0] * (1 - tx) + d[y1 * img.width + x1] * tx;
      out[y * w + x] = Math.round(top * (1 - ty) + bot * ty);
    }
  }
  return { width: w, height: h, data: out };
}

export const PERTURBATIONS: { name: string; apply: (img: Gray8Image) => Gray8Image | Promise<Gray8Image> }[] = [
  { name: 'JPEG q90', apply: (img) => reencodeJpeg(img, 90) },
  { name: 'resize ×0.9', apply: (img) => resizeBilinear(img, 0.9) },
  { name: 'resize ×1.1', apply: (img) => resizeBilinear(img, 1.1) },
];
