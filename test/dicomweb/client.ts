// dicomweb-client (written for browsers) on Node: its XMLHttpRequest comes from xhr2.
// eslint-disable-next-line @typescript-eslint/no-require-imports
(globalThis as any).XMLHttpRequest ??= require('xhr2');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { api } = require('dicomweb-client');

/** A DICOMweb client no one here wrote, pointed at `url` (a service root), with a bearer token if given. */
export function dicomwebClient(url: string, token?: string | null, headers: Record<string, string> = {}): any {
  return new api.DICOMwebClient({ url, headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
}

/** The HTTP status a dicomweb-client call failed with (it rejects with the request's status). */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err: any) {
    return err?.status ?? err?.request?.status ?? -1;
  }
}
