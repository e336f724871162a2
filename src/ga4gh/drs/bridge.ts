import Fastify from 'fastify';
import type http from 'node:http';
import type { Route } from '../../http/router.js';
import { drsRoutes, type DrsRoutesOptions } from './routes.js';

/**
 * TEMPORARY BRIDGE until the Fastify front door lands: serves the DRS plugin from today's
 * node:http router by handing /ga4gh/drs/v1 requests to a Fastify instance of its own
 * (`fastify.routing`). At merge, replace with `app.register(drsRoutes, options)` on the shared
 * server and delete this file.
 */
export async function drsBridge(options: DrsRoutesOptions): Promise<{ routes: Route[]; close: () => Promise<void> }> {
  const drs = Fastify({ logger: false });
  await drs.register(drsRoutes, options);
  await drs.ready();
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => new Promise<void>((resolve) => {
    res.once('close', () => resolve());
    drs.routing(req, res);
  });
  const path = /^\/ga4gh\/drs\/v1(\/|$)/;
  return { routes: ['GET', 'POST', 'OPTIONS'].map((method) => ({ method, path, handle })), close: () => drs.close() };
}
