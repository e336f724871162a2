import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../hooks';

// Whether the hub serves the full viewer (OHIF over DICOMweb at /viewer): asked once per page load.
let available: Promise<boolean> | null = null;
const viewerAvailable = () => (available ??= fetch('/viewer/', { method: 'HEAD' }).then((r) => r.ok, () => false));

/**
 * "Open in the full viewer" for a study, shown only once the hub serves /viewer. Signed in, the
 * link hands OHIF the session's bearer token (its `token` parameter: OHIF sends it on every
 * DICOMweb request and removes it from the address bar at once), so a controlled study the
 * viewer holds an approved request for opens with its pixels, as it does in the portal.
 */
export function FullViewerLink({ studyInstanceUid }: { studyInstanceUid: string }) {
  const [ok, setOk] = useState(false);
  const session = useSession();
  useEffect(() => { void viewerAvailable().then(setOk); }, []);
  if (!ok) return null;
  const token = session ? `&token=${encodeURIComponent(session.token)}` : '';
  return <a class="button secondary" href={`/viewer/viewer?StudyInstanceUIDs=${encodeURIComponent(studyInstanceUid)}${token}`} target="_blank" rel="noopener noreferrer">Open in the full viewer</a>;
}
