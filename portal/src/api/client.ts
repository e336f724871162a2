// The portal's GraphQL client: a POST per operation (Apollo Server's CSRF guard refuses simple
// GETs), the signed-in user's bearer token when there is one, and GraphQL errors surfaced as
// values the pages show — never swallowed into a blank page.
import { createClient, type Client } from 'graphql-ws';
import { session } from '../auth';

export class ApiError extends Error {
  constructor(message: string, readonly code: string, readonly status: number) {
    super(message);
  }
}

export interface GqlResult<T> { data: T | null; errors: ApiError[] }

/** POSTs one operation; throws ApiError on transport failure or when the server answered only errors. */
export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const result = await gqlResult<T>(query, variables, signal);
  if (result.errors.length) throw result.errors[0];
  return result.data as T;
}

/** Like gql, but hands back partial data together with the errors (a field the caller may not see). */
export async function gqlResult<T = any>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<GqlResult<T>> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authHeader() },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('The archive could not be reached. Check your connection and try again.', 'NETWORK_ERROR', 0);
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The archive answered ${res.status} ${res.statusText} without a GraphQL response.`, 'BAD_RESPONSE', res.status);
  }
  const errors = (body.errors ?? []).map((e) => new ApiError(e.message, e.extensions?.code ?? 'GRAPHQL_ERROR', res.status));
  if (errors.some((e) => e.code === 'UNAUTHENTICATED') && session.get()) session.expired();
  return { data: body.data ?? null, errors };
}

export function authHeader(): Record<string, string> {
  const token = session.get()?.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

let ws: Client | null = null;
let wsToken: string | null | undefined;

/** One graphql-ws connection per signed-in identity, on the same path as HTTP GraphQL. */
function wsClient(): Client {
  const token = session.get()?.token ?? null;
  if (ws && wsToken === token) return ws;
  ws?.dispose();
  wsToken = token;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  ws = createClient({ url, connectionParams: token ? { authorization: `Bearer ${token}` } : {}, lazy: true, retryAttempts: 3 });
  return ws;
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError: (err: ApiError) => void): () => void {
  return wsClient().subscribe<T>({ query, variables }, {
    next: (msg) => {
      if (msg.errors?.length) onError(new ApiError(msg.errors[0]!.message, String(msg.errors[0]!.extensions?.code ?? 'GRAPHQL_ERROR'), 200));
      else if (msg.data) onData(msg.data as T);
    },
    error: (err) => onError(new ApiError(err instanceof Error ? err.message : 'The live connection closed unexpectedly.', 'SUBSCRIPTION_ERROR', 0)),
    complete: () => {},
  });
}

/** A file from the archive fetched with the bearer token (downloads, controlled thumbnails). */
export async function fetchAuthorized(url: string): Promise<Blob> {
  const res = await fetch(url, { headers: authHeader() });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try { message = ((await res.json()) as { error?: string }).error ?? message; } catch { /* not JSON */ }
    throw new ApiError(message, `HTTP_${res.status}`, res.status);
  }
  return res.blob();
}
