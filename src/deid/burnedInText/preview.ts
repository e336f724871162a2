import { displayParsed, encodePng, parseImage, type Image8 } from '../../imaging';
import type { Box } from './ocrEngine';

/** An RGB copy of the image with each box outlined (2 px, red): what a curator sees of a redaction. */
export function outlineRegions(img: Image8, boxes: Box[]): Image8 {
  const { width, height } = img;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (img.channels === 3) rgb.set(img.data.subarray(3 * i, 3 * i + 3), 3 * i);
    else rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img.data[i];
  }
  const paint = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    rgb.set([255, 32, 32], 3 * (y * width + x));
  };
  for (const b of boxes) {
    const x0 = Math.floor(b.x), y0 = Math.floor(b.y), x1 = Math.ceil(b.x + b.w) - 1, y1 = Math.ceil(b.y + b.h) - 1;
    for (let t = 0; t < 2; t++) {
      for (let x = x0; x <= x1; x++) { paint(x, y0 + t); paint(x, y1 - t); }
      for (let y = y0; y <= y1; y++) { paint(x0 + t, y); paint(x1 - t, y); }
    }
  }
  return { width, height, channels: 3, data: rgb };
}

/** PNG of one frame of a stored image with the redacted regions outlined, for the curation preview. */
export async function redactionPreviewPng(part10: Uint8Array, boxes: Box[], frameIndex = 0): Promise<Buffer> {
  const img = await displayParsed(parseImage(part10), frameIndex);
  return encodePng(outlineRegions(img, boxes));
}
