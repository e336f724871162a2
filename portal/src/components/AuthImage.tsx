import { useEffect, useState } from 'preact/hooks';
import { fetchAuthorized } from '../api/client';
import { useSession } from '../hooks';

/**
 * An image from the archive. Public pixels load as a plain <img>; signed-in users' requests carry
 * the bearer token (controlled and unreleased thumbnails need it), so those are fetched and shown
 * from a blob: URL. A refusal shows as a labelled placeholder, not a broken image.
 */
export function AuthImage(props: { src: string; alt: string; class?: string; width?: number; height?: number }) {
  const s = useSession();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    setFailed(null);
    if (!s) { setUrl(props.src); return; }
    let objectUrl: string | null = null;
    let live = true;
    setUrl(null);
    fetchAuthorized(props.src).then((blob) => {
      if (!live) return;
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    }, (err) => { if (live) setFailed(err.status === 403 || err.status === 401 ? 'not permitted' : 'unavailable'); });
    return () => { live = false; if (objectUrl) URL.revokeObjectURL(objectUrl); };
  }, [props.src, s?.token]);
  // Preact 11 no longer appends px to numeric style values.
  const box = { width: props.width ? `${props.width}px` : undefined, height: props.height ? `${props.height}px` : undefined };
  if (failed) return <span class={`img-placeholder ${props.class ?? ''}`} role="img" aria-label={`${props.alt} (${failed})`} style={box}>{failed}</span>;
  if (!url) return <span class={`img-placeholder ${props.class ?? ''}`} role="img" aria-label={`${props.alt} (loading)`} style={box} />;
  return <img src={url} alt={props.alt} class={props.class} width={props.width} height={props.height} loading="lazy" onError={() => setFailed('not permitted or unavailable')} />;
}
