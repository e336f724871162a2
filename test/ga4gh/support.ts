import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { AccessModule } from '../../src/access/module.js';
import { drsDoorPlugin } from '../../src/ga4gh/drs/routes.js';
import type { PassportConfig } from '../../src/ga4gh/passport/config.js';
import { PassportVerifier } from '../../src/ga4gh/passport/PassportVerifier.js';
import { authenticator } from '../../src/http/authenticate.js';
import type { TestApp } from '../support/app.js';

export interface DrsServer { url: string; fastify: FastifyInstance; close: () => Promise<void> }

/**
 * The DRS plugin on a Fastify instance of its own on 127.0.0.1, over the test app's database,
 * download links and the front door's one authenticate, with the passport configuration the test
 * names (the app's own server registers the same plugin at /ga4gh/drs/v1 with the configured one).
 */
export async function startDrs(app: TestApp, passports: PassportConfig = { brokers: [], visaIssuers: [], clockToleranceSeconds: 0 }, limits: { maxBulkContents?: number } = {}): Promise<DrsServer> {
  const access = AccessModule.of(app.orm)!;
  const fastify = Fastify({ logger: false });
  // Registered as the front door's route list does: with the door's authenticate and access module as options.
  await fastify.register(drsDoorPlugin(new PassportVerifier(passports), limits), { authenticate: authenticator(access.verifier), access });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const port = (fastify.server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/ga4gh/drs/v1`, fastify, close: () => fastify.close() };
}

export async function drs(method: string, url: string, opts: { token?: string | null; body?: unknown; rawBody?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
