import { createCanvas } from '@napi-rs/canvas';

/** Text to burn into an image: where, how large, in which registered font, how bright (0–255). */
export interface BurnedText { text: string; x: number; y: number; size: number; family?: string; level?: number }

/**
 * A greyscale image with text drawn into its pixels, as a device or workstation burns annotations
 * in: the burned-in text tests' one way of making such pixels (fonts are registered by the caller).
 */
export function burnText(grey: { width: number; height: number; data: Uint8Array }, texts: readonly BurnedText[]): Uint8Array {
  const c = createCanvas(grey.width, grey.height);
  const g = c.getContext('2d');
  const img = g.createImageData(grey.width, grey.height);
  for (let i = 0; i < grey.data.length; i++) { img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = grey.data[i]!; img.data[4 * i + 3] = 255; }
  g.putImageData(img, 0, 0);
  for (const t of texts) {
    g.font = `${t.size}px "${t.family ?? 'DejaVu Sans'}"`;
    const v = t.level ?? 235;
    g.fillStyle = `rgb(${v},${v},${v})`;
    g.fillText(t.text, t.x, t.y);
  }
  const rgba = g.getImageData(0, 0, grey.width, grey.height).data;
  const pixels = new Uint8Array(grey.width * grey.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i]!;
  return pixels;
}
