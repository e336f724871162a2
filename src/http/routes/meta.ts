import type { RoutePlugin } from '../server.js';

/** `/health` (the process answers) and the local issuer's public keys. */
export function metaRoutes(jwks: () => unknown): RoutePlugin {
  return async (app) => {
    app.get('/health', async () => ({ status: 'ok' }));
    app.get('/.well-known/jwks.json', async () => jwks());
  };
}
