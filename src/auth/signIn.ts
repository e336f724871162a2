/**
 * How a browser signs in (the portal's sign-in page reads `GET /auth/config`):
 * - with the embedded local issuer (no OIDC_JWKS_URL), a development sign-in,
 *   `POST /auth/dev-sign-in {"user":"alice","role":"submitter"}` → `{ token, expiresAt }`: the same
 *   tokens `npm run token` prints. Whoever may use it becomes whoever they say, curator and admin
 *   included, so by default it answers only callers on this machine (a loopback address, and no
 *   proxy's forwarding headers): `npm start` listens on every interface, and a sign-in open to
 *   the network would hand any passer-by every controlled file. OBIA_DEV_SIGNIN=network offers
 *   it to every caller (a demonstration on a private network, said in the log at start);
 *   OBIA_DEV_SIGNIN=0 turns it off. It is never offered when an external OIDC issuer verifies
 *   tokens (it answers 404 then).
 * - with an external OIDC issuer, the portal runs the authorization code flow with PKCE against it
 *   as a public client (OBIA_PORTAL_OIDC_CLIENT_ID) and sends the access token it gets.
 */
import type { Config } from '../config.js';
import type { FastifyRequest } from 'fastify';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors.js';
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
  /** Whether the development sign-in answers the caller who asked (GET /auth/config is answered per caller). */
  devSignIn: boolean;
  roles: string[];
  oidc: { issuer: string; clientId: string | null; scope: string } | null;
}

/** Who the development sign-in answers: nobody, callers on this machine (the default), or everyone. */
export type DevSignIn = 'off' | 'loopback' | 'network';

export function devSignInFrom(config: Config, env: NodeJS.ProcessEnv = process.env): DevSignIn {
  if (config.oidc.jwksUrl) return 'off';
  const value = (env.OBIA_DEV_SIGNIN ?? '').trim().toLowerCase();
  if (value === '' || value === 'loopback' || value === '1') return 'loopback';
  if (value === '0' || value === 'off') return 'off';
  if (value === 'network') return 'network';
  throw new Error(`OBIA_DEV_SIGNIN must be 0, loopback or network (got "${env.OBIA_DEV_SIGNIN}")`);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
/** Headers a reverse proxy adds: a loopback socket carrying one is a remote caller's request, relayed. */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'via'];

/**
 * Names a browser on this machine reaches the hub by: localhost (and *.localhost, which browsers
 * resolve to loopback themselves, never through DNS), a 127/8 address or [::1], with any port.
 */
const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)*\.localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d{1,5})?$/i;

/** The host of an Origin header ("null" and malformed ones are no host). */
function originHost(origin: string): string | null {
  try { return new URL(origin).host; } catch { return null; }
}

/**
 * Whether the caller is on this machine: its socket's address is loopback, no proxy relayed it,
 * and the browser (if it is one) asked by a loopback name from a loopback page. The socket alone
 * is not enough: a site whose DNS name is rebound to 127.0.0.1 is, to the browser, the same origin
 * as the hub, so its script could POST here from the victim's own machine and read an admin token
 * (Host: rebind.example:4000); and any other site's page may send the request (Origin: its own).
 */
export function onThisMachine(request: Pick<FastifyRequest, 'socket' | 'headers'>): boolean {
  const address = request.socket.remoteAddress ?? '';
  if (!LOOPBACK.test(address) || FORWARDING.some((h) => request.headers[h] !== undefined)) return false;
  if (!LOOPBACK_HOST.test(String(request.headers.host ?? ''))) return false;
  const origin = request.headers.origin;
  if (origin !== undefined && !LOOPBACK_HOST.test(originHost(String(origin)) ?? '')) return false;
  return request.headers['sec-fetch-site'] !== 'cross-site';
}

function answers(mode: DevSignIn, request: Pick<FastifyRequest, 'socket' | 'headers'>): boolean {
  return mode === 'network' || (mode === 'loopback' && onThisMachine(request));
}

export function signInConfig(config: Config, env: NodeJS.ProcessEnv = process.env): SignInConfig {
  const local = !config.oidc.jwksUrl;
  return {
    mode: local ? 'local' : 'oidc',
    devSignIn: devSignInFrom(config, env) !== 'off',
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
  const mode = devSignInFrom(config, env);
  if (mode === 'network') log.warn('development sign-in is open to every caller (OBIA_DEV_SIGNIN=network): anyone who reaches this server can sign in as a curator or admin');
  return async (app) => {
    app.get('/auth/config', async (request) => ({ ...settings, devSignIn: answers(mode, request) }));
    app.post('/auth/dev-sign-in', { bodyLimit: 4096 }, async (request) => {
      if (mode === 'off') throw new NotFoundError('development sign-in is off: sign in with the configured OIDC issuer');
      // Refused before the body is looked at: a remote caller learns nothing but how to enable it.
      if (!answers(mode, request)) {
        log.warn({ address: request.socket.remoteAddress }, 'development sign-in refused to a caller not on this machine');
        throw new ForbiddenError('development sign-in answers only on the machine the archive runs on, opened as http://localhost:<port> (OBIA_DEV_SIGNIN=network offers it to every caller)');
      }
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
