/**
 * Where sign-in returns to: the `next` query parameter of /sign-in (and the OIDC flow's saved
 * returnTo) comes from a link anyone can craft. Only a path on this origin is taken; anything else
 * ("//evil.example", "/\\evil.example", "https://…", "javascript:…") is the home page. The router
 * moves with the history API, which refuses another origin by throwing, so an unchecked value made
 * a successful sign-in end on a raw SecurityError; checked here, it never reaches the router.
 * Pure (no DOM) so the hub's tests run it.
 */
export function returnPath(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  let url: URL;
  try { url = new URL(next, origin); } catch { return '/'; }
  if (url.origin !== origin) return '/';
  // Back to the sign-in pages would loop.
  if (url.pathname === '/sign-in' || url.pathname.startsWith('/sign-in/')) return '/';
  return url.pathname + url.search + url.hash;
}
