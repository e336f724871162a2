// Who the browser is signed in as. The token lives in sessionStorage (closed with the tab, not
// shared with other sites); its claims are read only to label the page — the server verifies it.
import { returnPath } from './returnPath';

export type Role = 'researcher' | 'submitter' | 'curator' | 'admin';

export interface Session { token: string; user: string; roles: Role[]; name: string | null; expiresAt: number }

export interface SignInConfig {
  mode: 'local' | 'oidc';
  devSignIn: boolean;
  roles: Role[];
  oidc: { issuer: string; clientId: string | null; scope: string } | null;
}

const KEY = 'obia.session';
const listeners = new Set<() => void>();

function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(decodeURIComponent(Array.from(json, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('')));
}

export function sessionFromToken(token: string): Session {
  const c = decodeClaims(token);
  const named = (Array.isArray(c.roles) ? c.roles : typeof c.role === 'string' ? [c.role] : []).map((r) => String(r).toLowerCase()) as Role[];
  // As the hub reads it (src/auth/verifier.ts): a token naming no known role is a researcher's.
  const roles = named.filter((r) => ['researcher', 'submitter', 'curator', 'admin'].includes(r));
  if (roles.length === 0) roles.push('researcher');
  return { token, user: String(c.sub ?? ''), roles, name: typeof c.name === 'string' ? c.name : null, expiresAt: Number(c.exp ?? 0) * 1000 };
}

export const session = {
  get(): Session | null {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
      return s && s.expiresAt > Date.now() ? s : null;
    } catch { return null; }
  },
  set(token: string): Session {
    const s = sessionFromToken(token);
    sessionStorage.setItem(KEY, JSON.stringify(s));
    listeners.forEach((l) => l());
    return s;
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l());
  },
  /** The server refused the token (expired or revoked key): forget it so pages fall back to public views. */
  expired(): void { this.clear(); },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function hasRole(s: Session | null, ...roles: Role[]): boolean {
  return !!s && s.roles.some((r) => roles.includes(r) || r === 'admin');
}

export async function loadSignInConfig(): Promise<SignInConfig> {
  const res = await fetch('/auth/config');
  if (!res.ok) throw new Error(`sign-in settings unavailable (${res.status})`);
  return res.json();
}

/** The local issuer's development sign-in (POST /auth/dev-sign-in). */
export async function devSignIn(user: string, role: Role, name?: string): Promise<Session> {
  const res = await fetch('/auth/dev-sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, role, name: name || undefined }) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `sign-in refused (${res.status})`);
  return session.set(body.token);
}

// --- OIDC authorization code flow with PKCE (RFC 7636), as a public client -------------------

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the identity provider's discovery document is unavailable (${res.status})`);
  return res.json();
}

const redirectUri = () => `${location.origin}/sign-in/callback`;

export async function startOidcSignIn(config: SignInConfig, returnTo: string): Promise<void> {
  const oidc = config.oidc;
  if (!oidc?.clientId) throw new Error('OIDC sign-in is not configured: set OBIA_PORTAL_OIDC_CLIENT_ID on the hub.');
  const meta = await discover(oidc.issuer);
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('obia.pkce', JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: oidc.clientId, redirect_uri: redirectUri(), scope: oidc.scope,
    state, code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** Finishes the flow on /sign-in/callback; returns where to go next. */
export async function finishOidcSignIn(config: SignInConfig, params: URLSearchParams): Promise<string> {
  const saved = JSON.parse(sessionStorage.getItem('obia.pkce') ?? 'null') as { verifier: string; state: string; returnTo: string } | null;
  sessionStorage.removeItem('obia.pkce');
  if (params.get('error')) throw new Error(`the identity provider refused: ${params.get('error_description') ?? params.get('error')}`);
  if (!saved || params.get('state') !== saved.state) throw new Error('this sign-in response does not match a sign-in started here; start again');
  const meta = await discover(config.oidc!.issuer);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: redirectUri(), client_id: config.oidc!.clientId!, code_verifier: saved.verifier }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) throw new Error(body.error_description ?? body.error ?? `token exchange failed (${res.status})`);
  session.set(body.access_token);
  // Checked again here: sessionStorage is the page's, but the value began as a URL parameter.
  return returnPath(saved.returnTo, location.origin);
}
