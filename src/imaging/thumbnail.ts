import { decodeFrameAtSize } from './decode';
import { encodePng } from './png';
import { fitWithin, resize } from './resize';
import { toDisplay8, type Image8 } from './window';

export async function renderImage(part10: Uint8Array, maxSize: number): Promise<Image8> {
  return fitDisplay(toDisplay8(await decodeFrameAtSize(part10, undefined, maxSize)), maxSize);
}

function fitDisplay(display: Image8, maxSize: number): Image8 {
  const size = fitWithin(display.width, display.height, maxSize);
  return resize(display, size.width, size.height);
}

/** PNG thumbnail of display values already computed (ingest renders them once for the thumbnail and the hash). */
export function thumbnailOfDisplay(display: Image8, maxSize = 128): Buffer {
  return encodePng(fitDisplay(display, maxSize));
}

/** PNG thumbnail of the middle frame, longest side `maxSize` (default 128). */
export async function renderThumbnail(part10: Uint8Array, opts: { maxSize?: number } = {}): Promise<Buffer> {
  const maxSize = opts.maxSize ?? 128;
  if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > 4096) throw new RangeError(`maxSize must be an integer in 1..4096, got ${maxSize}`);
  return encodePng(await renderImage(part10, maxSize));
}

/** Marks a tile whose image could not be decoded, so one bad file does not sink a series preview. */
function placeholder(tile: number): Image8 {
  const data = new Uint8Array(tile * tile * 3).fill(48);
  for (let i = 0; i < tile; i++) {
    for (const x of [i, tile - 1 - i]) data.fill(160, (i * tile + x) * 3, (i * tile + x) * 3 + 3);
  }
  return { width: tile, height: tile, channels: 3, data };
}

/**
 * Grid of thumbnails (row-major, centred in square tiles on black). Output is RGB when any
 * tile is colour, otherwise greyscale. Undecodable images appear as a crossed-out tile.
 */
export async function renderMontage(images: Uint8Array[], opts: { tile?: number; columns?: number } = {}): Promise<Buffer> {
  if (images.length === 0) throw new RangeError('renderMontage needs at least one image');
  const tile = opts.tile ?? 128;
  if (!Number.isInteger(tile) || tile < 1 || tile > 1024) throw new RangeError(`tile must be an integer in 1..1024, got ${tile}`);
  const columns = Math.max(1, Math.min(images.length, opts.columns ?? Math.ceil(Math.sqrt(images.length))));
  const rows = Math.ceil(images.length / columns);
  const tiles: Image8[] = [];
  // Sequential on purpose: decoding is CPU-bound and the WASM codecs are single-threaded anyway.
  for (const img of images) {
    try {
      tiles.push(await renderImage(img, tile));
    } catch {
      tiles.push(placeholder(tile));
    }
  }
  const channels: 1 | 3 = tiles.some((t) => t.channels === 3) ? 3 : 1;
  const width = columns * tile, height = rows * tile;
  const data = new Uint8Array(width * height * channels);
  tiles.forEach((t, i) => {
    const ox = (i % columns) * tile + Math.floor((tile - t.width) / 2);
    const oy = Math.floor(i / columns) * tile + Math.floor((tile - t.height) / 2);
    for (let y = 0; y < t.height; y++) {
      for (let x = 0; x < t.width; x++) {
        const d = ((oy + y) * width + ox + x) * channels;
        const s = (y * t.width + x) * t.channels;
        for (let c = 0; c < channels; c++) data[d + c] = t.data[s + (t.channels === 3 ? c : 0)];
      }
    }
  });
  return encodePng({ width, height, channels, data });
}
