/**
 * How a browser signs in (the portal's sign-in page reads `GET /auth/config`):
 * - with the embedded local issuer (no OIDC_JWKS_URL), a development sign-in,
 *   `POST /auth/dev-sign-in {"user":"alice","role":"submitter"}` → `{ token, expiresAt }`: the same
 *   tokens `npm run token` prints, for anyone who can reach the server. It exists for development
 *   and demonstrations on the embedded default; set OBIA_DEV_SIGNIN=0 to turn it off, and it is
 *   never offered when an external OIDC issuer verifies tokens (it answers 404 then).
 * - with an external OIDC issuer, the portal runs the authorization code flow with PKCE against it
 *   as a public client (OBIA_PORTAL_OIDC_CLIENT_ID) and sends the access token it gets.
 */
import type { Config } from '../config.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import type { RoutePlugin } from '../http/server.js';
import { logger } from '../log.js';
import type { LocalIssuer } from './issuer.js';
import { Role } from './Principal.js';

const log = logger.child({ module: 'sign-in' });
const USER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TTL_SECONDS = 8 * 3600;

export interface SignInConfig {
  /** "local": the embedded issuer; "oidc": an external issuer. */
  mode: 'local' | 'oidc';
  devSignIn: boolean;
  roles: string[];
  oidc: { issuer: string; clientId: string | null; scope: string } | null;
}

export function signInConfig(config: Config, env: NodeJS.ProcessEnv = process.env): SignInConfig {
  const local = !config.oidc.jwksUrl;
  return {
    mode: local ? 'local' : 'oidc',
    devSignIn: local && env.OBIA_DEV_SIGNIN !== '0',
    roles: Object.values(Role),
    oidc: local ? null : { issuer: config.oidc.issuer, clientId: env.OBIA_PORTAL_OIDC_CLIENT_ID || null, scope: env.OBIA_PORTAL_OIDC_SCOPE || 'openid profile email' },
  };
}

/** Origins the portal's sign-in talks to besides the hub: the external issuer's, when there is one. */
export function signInOrigins(config: Config): string[] {
  if (!config.oidc.jwksUrl) return [];
  try { return [new URL(config.oidc.issuer).origin]; } catch { return []; }
}

/** `GET /auth/config` and `POST /auth/dev-sign-in`, as one route family. */
export function signInRoutes(config: Config, issuer: LocalIssuer, env: NodeJS.ProcessEnv = process.env): RoutePlugin {
  const settings = signInConfig(config, env);
  return async (app) => {
    app.get('/auth/config', async () => settings);
    app.post('/auth/dev-sign-in', { bodyLimit: 4096 }, async (request) => {
      if (!settings.devSignIn) throw new NotFoundError('development sign-in is off: sign in with the configured OIDC issuer');
      const body = (request.body ?? {}) as { user?: unknown; role?: unknown; name?: unknown; institution?: unknown };
      if (typeof body !== 'object') throw new BadUserInputError('send JSON: {"user": "alice", "role": "researcher"}');
      const user = typeof body.user === 'string' ? body.user.trim() : '';
      if (!USER.test(user)) throw new BadUserInputError('user: 1–64 letters, digits, ".", "_", "@" or "-"');
      const role = body.role ?? Role.RESEARCHER;
      if (typeof role !== 'string' || !settings.roles.includes(role)) throw new BadUserInputError(`role: one of ${settings.roles.join(', ')}`);
      const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined);
      const token = await issuer.issue({ sub: user, roles: [role as Role], name: text(body.name), institution: text(body.institution) }, TTL_SECONDS);
      log.info({ user, role }, 'development sign-in');
      return { token, expiresAt: new Date(Date.now() + TTL_SECONDS * 1000).toISOString() };
    });
  };
}
