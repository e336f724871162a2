import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client';

/** Loading, error and empty states: every query's result goes through one of these. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return <p class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true" />{label}</p>;
}

export function ErrorBox({ error, retry }: { error: Error | ApiError | null; retry?: () => void }) {
  if (!error) return null;
  const code = (error as ApiError).code;
  return (
    <div class="error" role="alert">
      <strong>{code === 'FORBIDDEN' ? 'Not allowed' : code === 'UNAUTHENTICATED' ? 'Sign in needed' : 'Something went wrong'}</strong>
      <p>{error.message}{code && !['NETWORK_ERROR'].includes(code) ? <code class="code"> {code}</code> : null}</p>
      {retry ? <button type="button" onClick={retry}>Try again</button> : null}
    </div>
  );
}

export function QueryView<T>(props: { state: { data: T | null; error: Error | null; loading: boolean; reload?: () => void }; label?: string; children: (data: T) => ComponentChildren }) {
  const { state } = props;
  if (state.error) return <ErrorBox error={state.error} retry={state.reload} />;
  if (!state.data) return <Loading label={props.label} />;
  return <>{props.children(state.data)}</>;
}

export function NotFound({ what }: { what: string }) {
  return <div class="notice" role="alert"><strong>Not found.</strong> <p>There is no {what} you may see. It may be unreleased or the accession may be mistyped.</p></div>;
}
