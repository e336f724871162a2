import { sameSecret } from '../auth/sameSecret.js';
import type { RoutePlugin } from '../http/server.js';
import type { OpsMetrics } from './metrics.js';
import { checkReadiness, type Dependency } from './readiness.js';
import { traceHttp } from './tracing.js';

/**
 * Operations, one route family: `/health` (the process answers), `/ready` (its dependencies
 * answer: 503 naming the ones that do not) and `/metrics` (Prometheus text). With
 * `OBIA_METRICS_TOKEN` set, `/metrics` wants it as a bearer token. The plugin's timing hook
 * covers every route, not only its own (see the skip-override below).
 */
export function opsRoutes(metrics: OpsMetrics, dependencies: Dependency[], metricsToken: string | null = null): RoutePlugin {
  const plugin: RoutePlugin = async (app, door) => {
    const log = door.log.child({ component: 'ops' });
    // A span per request (a no-op unless tracing is on: src/ops/tracing.ts).
    traceHttp(app);
    app.addHook('onResponse', async (request, reply) => {
      metrics.observeHttp(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.get('/health', async () => ({ status: 'ok' }));
    app.get('/ready', async (_request, reply) => {
      const r = await checkReadiness(dependencies, (name, err) => log.warn({ err, dependency: name }, 'not ready'));
      reply.code(r.ready ? 200 : 503);
      return r.ready ? { status: 'ready', checks: r.checks } : { status: 'not ready', checks: r.checks, failed: r.failed };
    });
    app.get('/metrics', async (request, reply) => {
      if (metricsToken && !sameSecret(request.headers.authorization ?? '', `Bearer ${metricsToken}`)) {
        reply.code(401).header('www-authenticate', 'Bearer');
        return { error: 'metrics need the metrics token', code: 'UNAUTHENTICATED' };
      }
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  };
  // What fastify-plugin does: the hook above applies to the whole server, not to this plugin's routes only.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
