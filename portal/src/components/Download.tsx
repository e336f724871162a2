import { useState } from 'preact/hooks';
import { ApiError, fetchAuthorized, gql } from '../api/client';
import { CREATE_DOWNLOAD_LINK } from '../api/operations';
import { ErrorBox } from './Status';

/**
 * Download a collection, study or series as a zip: a signed link bound to the signed-in user,
 * fetched with their bearer token (the link alone is not enough), then saved by the browser.
 */
export function DownloadButton(props: { target: { collection?: string; study?: string; series?: string }; label: string }) {
  const [state, setState] = useState<'idle' | 'working' | 'done'>('idle');
  const [error, setError] = useState<Error | null>(null);
  const start = async () => {
    setState('working');
    setError(null);
    try {
      const { createDownloadLink } = await gql(CREATE_DOWNLOAD_LINK, { target: props.target });
      const link = new URL(createDownloadLink.url, location.origin);
      // Same origin as the page whatever host name the hub put in the link.
      const blob = await fetchAuthorized(link.pathname + link.search);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${Object.values(props.target)[0]}.zip`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      setState('done');
    } catch (err) {
      setError(err instanceof Error ? err : new ApiError(String(err), 'CLIENT_ERROR', 0));
      setState('idle');
    }
  };
  return (
    <div class="download">
      <button type="button" onClick={start} disabled={state === 'working'} aria-busy={state === 'working'}>
        {state === 'working' ? 'Preparing download…' : props.label}
      </button>
      {state === 'done' ? <span role="status"> Download saved.</span> : null}
      <ErrorBox error={error} />
    </div>
  );
}
