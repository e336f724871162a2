import { useEffect, useState } from 'preact/hooks';

// Whether the hub serves the full viewer (OHIF over DICOMweb at /viewer): asked once per page load.
let available: Promise<boolean> | null = null;
const viewerAvailable = () => (available ??= fetch('/viewer/', { method: 'HEAD' }).then((r) => r.ok, () => false));

/** "Open in the full viewer" for a study, shown only once the hub serves /viewer. */
export function FullViewerLink({ studyInstanceUid }: { studyInstanceUid: string }) {
  const [ok, setOk] = useState(false);
  useEffect(() => { void viewerAvailable().then(setOk); }, []);
  if (!ok) return null;
  return <a class="button secondary" href={`/viewer/viewer?StudyInstanceUIDs=${encodeURIComponent(studyInstanceUid)}`} target="_blank" rel="noopener">Open in the full viewer</a>;
}
