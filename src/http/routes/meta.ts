import type { RoutePlugin } from '../server.js';

/** The local issuer's public keys (`/health`, `/ready` and `/metrics` are src/ops/routes.ts). */
export function metaRoutes(jwks: () => unknown): RoutePlugin {
  return async (app) => {
    app.get('/.well-known/jwks.json', async () => jwks());
  };
}
