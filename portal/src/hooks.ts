import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, gql } from './api/client';
import { session, type Session } from './auth';

export interface QueryState<T> { data: T | null; error: ApiError | null; loading: boolean; reload: () => void }

/** Runs a query when its key changes (aborting the previous one); loading and error are always shown by the page. */
export function useQuery<T = any>(query: string | null, variables: Record<string, unknown> = {}): QueryState<T> {
  const key = query ? JSON.stringify([query, variables, session.get()?.token ?? null]) : null;
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: !!query });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!query) return;
    const controller = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    gql<T>(query, variables, controller.signal).then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => { if (error.name !== 'AbortError') setState({ data: null, error: error instanceof ApiError ? error : new ApiError(String(error.message ?? error), 'CLIENT_ERROR', 0), loading: false }); },
    );
    return () => controller.abort();
  }, [key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** A mutation's state: run() resolves to the data or null, with error kept for display. */
export function useMutation<T = any>(query: string) {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: false });
  const mounted = useRef(true);
  useEffect(() => () => { mounted.current = false; }, []);
  const run = async (variables: Record<string, unknown>): Promise<T | null> => {
    setState({ data: null, error: null, loading: true });
    try {
      const data = await gql<T>(query, variables);
      if (mounted.current) setState({ data, error: null, loading: false });
      return data;
    } catch (err) {
      if (mounted.current) setState({ data: null, error: err instanceof ApiError ? err : new ApiError(String((err as Error).message), 'CLIENT_ERROR', 0), loading: false });
      return null;
    }
  };
  return { ...state, run };
}

export function useSession(): Session | null {
  const [s, set] = useState(session.get());
  useEffect(() => session.subscribe(() => set(session.get())), []);
  return s;
}

export function useTitle(title: string): void {
  useEffect(() => { document.title = title ? `${title} · OBIA Hub` : 'OBIA Hub'; }, [title]);
}
