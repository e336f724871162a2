import { useState } from 'preact/hooks';
import { AuthImage } from './AuthImage';

export interface Slice { uid: string; instanceNumber: number | null; rows: number | null; columns: number | null; thumbnailUrl: string }

/**
 * A slice viewer in the page: steps through a series' images (their thumbnails) with a slider,
 * the arrow keys, Home/End, or the buttons. The full viewer (OHIF over DICOMweb) replaces it once
 * DICOMweb is served.
 */
export function SliceViewer({ slices, label }: { slices: Slice[]; label: string }) {
  const [index, setIndex] = useState(Math.floor((slices.length - 1) / 2));
  if (slices.length === 0) return <p>No images to show.</p>;
  const go = (i: number) => setIndex(Math.max(0, Math.min(slices.length - 1, i)));
  const onKey = (e: KeyboardEvent) => {
    const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1, PageUp: -10, PageDown: 10 }[e.key];
    if (step) { e.preventDefault(); go(index + step); }
    if (e.key === 'Home') { e.preventDefault(); go(0); }
    if (e.key === 'End') { e.preventDefault(); go(slices.length - 1); }
  };
  const slice = slices[index]!;
  return (
    <section class="viewer" aria-label={`Slice viewer: ${label}`} tabIndex={0} onKeyDown={onKey}>
      <div class="viewer-image">
        <AuthImage src={slice.thumbnailUrl} alt={`Image ${index + 1} of ${slices.length}${slice.instanceNumber != null ? `, instance ${slice.instanceNumber}` : ''}`} width={384} height={384} class="slice" />
      </div>
      <div class="viewer-controls">
        <button type="button" onClick={() => go(index - 1)} disabled={index === 0} aria-label="Previous image">◀</button>
        <label>
          <span class="sr-only">Image</span>
          <input type="range" min={1} max={slices.length} value={index + 1} onInput={(e) => go(Number((e.target as HTMLInputElement).value) - 1)} aria-valuetext={`Image ${index + 1} of ${slices.length}`} />
        </label>
        <button type="button" onClick={() => go(index + 1)} disabled={index === slices.length - 1} aria-label="Next image">▶</button>
        <output aria-live="polite">{index + 1} / {slices.length}{slice.instanceNumber != null ? ` · instance ${slice.instanceNumber}` : ''}{slice.rows ? ` · ${slice.columns}×${slice.rows}` : ''}</output>
      </div>
      <p class="hint">Arrow keys step through the images when the viewer has focus; Home and End jump to the ends.</p>
    </section>
  );
}
