import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { PassThrough } from 'node:stream';
import { drained } from '../../http/drained.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/Principal.js';
import { ServiceUnavailableError } from '../../errors.js';
import { logger } from '../../log.js';
import { ReleasesModule } from '../../releases/module.js';
import type { PassportVerifier } from '../passport/PassportVerifier.js';
import { DrsError } from './errors.js';
import { DrsService } from './DrsService.js';

export const DRS_BASE = '/ga4gh/drs/v1';
/** Longest bulk request (bulk_object_ids, bulk_object_access_ids) before 413. */
export const MAX_BULK = 100;
/**
 * Bundle contents one bulk answer may list, all bundles together. A bundle lists every image it
 * holds (a collection version of 100,000 images is about 19 MB of JSON), so a hundred ids of
 * the largest version, a 2 KB request, made the archive build and send a hundred copies of it.
 * A bulk answer is built whole, so it is kept small (10,000, about 1.9 MB; OBIA_DRS_BULK_MAX_CONTENTS);
 * a larger bundle is asked for alone, where its contents are streamed.
 */
export const MAX_BULK_CONTENTS = Number(process.env.OBIA_DRS_BULK_MAX_CONTENTS) > 0 ? Math.floor(Number(process.env.OBIA_DRS_BULK_MAX_CONTENTS)) : 10_000;

export interface DrsRoutesOptions {
  orm: MikroORM;
  /** The caller's principal from the request (its bearer token, which may itself be a passport); throws when a credential is invalid. */
  authenticate: (request: FastifyRequest) => Promise<Principal | null>;
  passports: PassportVerifier;
  /** Recorded as the archive's other routes record users (UserDirectory); optional. */
  recordUser?: (em: EntityManager, user: Principal | null) => Promise<void>;
  serviceInfo?: { organization: { name: string; url: string }; version: string };
  /** Bundle contents listed in one bulk answer, at most (MAX_BULK_CONTENTS). */
  maxBulkContents?: number;
}

const log = logger.child({ module: 'drs' });

interface Caller { user: Principal | null; credential: string | null }

function bearerOf(request: FastifyRequest): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '');
  return m ? m[1]! : null;
}

/**
 * GA4GH DRS 1.4 at /ga4gh/drs/v1 as a Fastify plugin: service-info, objects (GET/POST/OPTIONS),
 * their https access URLs, and the bulk forms. Errors are the spec's `{ msg, status_code }`.
 * Credentials: a bearer token (or a passport as the bearer token), or `passports` in a POST body.
 */
export const drsRoutes: FastifyPluginAsync<DrsRoutesOptions> = async (app, opts) => {
  await app.register(async (drs) => {
    drs.setErrorHandler((err: any, _request, reply) => {
      if (err instanceof DrsError) return sendError(reply, err.status, err.message);
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) log.error({ err }, 'DRS request failed');
      return sendError(reply, status, status === 500 ? 'internal server error' : err.message);
    });
    drs.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'no such DRS endpoint'));

    /** Who is asking: passports posted in the body win over the Authorization header. */
    async function caller(request: FastifyRequest): Promise<Caller> {
      const body = request.body as Record<string, unknown> | undefined;
      const passports = body && typeof body === 'object' ? body.passports : undefined;
      if (passports !== undefined) {
        if (!Array.isArray(passports) || passports.length === 0 || passports.length > 10 || !passports.every((p) => typeof p === 'string')) {
          throw new DrsError(400, '"passports" must be an array of one to ten passport JWTs');
        }
        let principal: Principal | null = null;
        // A passport sent twice is one passport: verified, and its visas counted, once.
        for (const passport of new Set(passports as string[])) {
          let verified;
          try { verified = await opts.passports.verify(passport); } catch (err) {
            // A broker or visa issuer out of reach: try again, not "refused".
            if (err instanceof ServiceUnavailableError) throw new DrsError(503, err.message);
            throw new DrsError(401, `passport refused: ${(err as Error).message}`);
          }
          if (principal && principal.id !== verified.principal.id) throw new DrsError(401, 'the passports are about different people');
          principal = principal ? { ...(principal as Principal), visas: [...principal.visas!, ...verified.principal.visas!], expiresAt: Math.min(principal.expiresAt!, verified.principal.expiresAt!) } : verified.principal;
        }
        return { user: principal, credential: (passports as string[])[0]! };
      }
      try {
        return { user: await opts.authenticate(request), credential: bearerOf(request) };
      } catch (err) {
        if (err instanceof ServiceUnavailableError) throw new DrsError(503, err.message);
        throw new DrsError(401, (err as Error).message || 'the bearer token is not valid');
      }
    }

    async function service(request: FastifyRequest): Promise<{ service: DrsService; caller: Caller }> {
      const who = await caller(request);
      const em = opts.orm.em.fork() as EntityManager;
      await opts.recordUser?.(em, who.user);
      return { service: new DrsService(em, who.user), caller: who };
    }

    drs.get('/service-info', async () => {
      const releases = ReleasesModule.of(opts.orm.em as EntityManager);
      const base = opts.serviceInfo ?? { organization: { name: releases.config.publisher, url: releases.baseUrl }, version: '0.1.0' };
      return {
        id: 'org.obia-hub.drs', name: 'OBIA Hub DRS',
        type: { group: 'org.ga4gh', artifact: 'drs', version: '1.4.0' },
        description: 'De-identified DICOM images (blobs), series and immutable collection versions (bundles) of an open biomedical imaging archive.',
        organization: base.organization, version: base.version, maxBulkRequestLength: MAX_BULK,
      };
    });

    const expandOf = (request: FastifyRequest) => {
      const q = (request.query as any)?.expand;
      const b = (request.body as any)?.expand;
      return q === 'true' || b === true;
    };

    // One object: a bundle's contents are written batch by batch as they are read (see streamObject).
    const one = async (request: FastifyRequest<{ Params: { object_id: string } }>, reply: FastifyReply) => {
      const answer = await (await service(request)).service.objectStream(request.params.object_id, expandOf(request));
      if (!answer.contents) return answer.head;
      return reply.type('application/json; charset=utf-8').send(streamObject(answer.head, answer.contents));
    };
    drs.get('/objects/:object_id', one);
    drs.post('/objects/:object_id', one);
    drs.options<{ Params: { object_id: string } }>('/objects/:object_id', async (request) => {
      const { service: s } = await service(request);
      return s.authorizationsOf(await s.resolve(request.params.object_id));
    });

    const access = async (request: FastifyRequest<{ Params: { object_id: string; access_id: string } }>) => {
      const { service: s, caller: who } = await service(request);
      return s.accessUrl(request.params.object_id, request.params.access_id, who.credential);
    };
    drs.get('/objects/:object_id/access/:access_id', access);
    drs.post('/objects/:object_id/access/:access_id', access);

    drs.post('/objects', async (request) => {
      const ids = bulkIds(request.body, 'bulk_object_ids');
      const { service: s } = await service(request);
      const expand = expandOf(request);
      const max = opts.maxBulkContents ?? MAX_BULK_CONTENTS;
      return bulk(ids, (id, listed) => s.object(id, expand, max - listed), 'resolved_drs_object', max);
    });
    drs.options('/objects', async (request) => {
      const ids = bulkIds(request.body, 'bulk_object_ids');
      const { service: s } = await service(request);
      return bulk(ids, async (id) => s.authorizationsOf(await s.resolve(id)), 'resolved_drs_object');
    });

    drs.post('/objects/access', async (request) => {
      const body = request.body as any;
      const pairs = body?.bulk_object_access_ids;
      if (!Array.isArray(pairs) || pairs.length === 0) throw new DrsError(400, '"bulk_object_access_ids" must be a non-empty array');
      const wanted: { id: string; accessId: string }[] = [];
      const seen = new Set<string>();
      let listed = 0;
      for (const p of pairs) {
        if (!p || typeof p.bulk_object_id !== 'string' || !Array.isArray(p.bulk_access_ids) || !p.bulk_access_ids.every((a: unknown) => typeof a === 'string')) {
          throw new DrsError(400, 'each of "bulk_object_access_ids" needs bulk_object_id and bulk_access_ids');
        }
        for (const a of p.bulk_access_ids.length ? p.bulk_access_ids : [undefined]) {
          // A pair asked for twice is resolved, and answered, once (as bulk_object_ids are): a hundred
          // copies of one pair made a hundred resolutions, policy checks and signed links.
          if (++listed > MAX_BULK) throw new DrsError(413, `at most ${MAX_BULK} object/access pairs per request`);
          const key = `${p.bulk_object_id}\u0000${a ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          wanted.push({ id: p.bulk_object_id, accessId: a ?? '' });
        }
      }
      const { service: s, caller: who } = await service(request);
      const resolved: any[] = [];
      const failures = new Map<number, string[]>();
      for (const w of wanted) {
        try {
          resolved.push({ drs_object_id: w.id, drs_access_id: w.accessId, ...(await s.accessUrl(w.id, w.accessId, who.credential)) });
        } catch (err) {
          if (!(err instanceof DrsError)) throw err;
          failures.set(err.status, [...(failures.get(err.status) ?? []), w.id]);
        }
      }
      return {
        summary: { requested: wanted.length, resolved: resolved.length, unresolved: wanted.length - resolved.length },
        unresolved_drs_objects: [...failures].map(([error_code, object_ids]) => ({ error_code, object_ids })),
        resolved_drs_object_access_urls: resolved,
      };
    });
  }, { prefix: DRS_BASE });
};

/**
 * A bundle's DrsObject written as its contents are read: the head (everything but `contents`),
 * then each batch, with backpressure, stopping when the client goes. A failure after the head
 * cuts the JSON short (the client sees a broken body, never a wrong list).
 */
function streamObject(head: Record<string, any>, contents: AsyncIterable<Record<string, any>[]>): PassThrough {
  const out = new PassThrough();
  void (async () => {
    try {
      const text = JSON.stringify(head);
      out.write(`${text.slice(0, -1)},"contents":[`);
      let first = true;
      for await (const batch of contents) {
        if (out.destroyed) break;
        const part = batch.map((c) => JSON.stringify(c)).join(',');
        if (!part) continue;
        if (!out.write(first ? part : `,${part}`)) await drained(out);
        first = false;
      }
      if (!out.destroyed) out.end(']}');
    } catch (err) {
      log.error({ err }, 'DRS bundle contents failed mid-answer');
      out.destroy(err as Error);
    }
  })();
  return out;
}

function sendError(reply: FastifyReply, status: number, msg: string) {
  return reply.code(status).type('application/json').send({ msg, status_code: status });
}

/** The distinct ids asked for, in order: an id asked for twice is resolved, and answered, once. */
function bulkIds(body: unknown, field: string): string[] {
  const ids = (body as any)?.[field];
  if (!Array.isArray(ids) || ids.length === 0) throw new DrsError(400, `"${field}" must be a non-empty array of object ids`);
  if (ids.length > MAX_BULK) throw new DrsError(413, `at most ${MAX_BULK} ids per request`);
  // Ids are strings (DRS 1.4). Anything else was resolved, refused and named in the answer by
  // String(id): an array nested 200,000 deep overflowed the stack there and answered 500.
  if (!ids.every((id) => typeof id === 'string')) throw new DrsError(400, `"${field}" must be an array of object ids (strings)`);
  return [...new Set(ids)];
}

/**
 * Resolves each id on its own: the spec's summary, unresolved ids grouped by error code, and the
 * resolved items. Refused whole (413) once the bundles resolved so far list more than
 * `maxContents` objects: no more is built than that.
 */
async function bulk(ids: unknown[], one: (id: unknown, listed: number) => Promise<any>, field: string, maxContents = Infinity) {
  const resolved: any[] = [];
  const failures = new Map<number, string[]>();
  let listed = 0;
  for (const id of ids) {
    let item;
    try {
      item = await one(id, listed);
    } catch (err) {
      if (!(err instanceof DrsError)) throw err;
      if (err.status === 413) throw new DrsError(413, `the bundles asked for list more than ${maxContents} objects in all: ask for fewer per request, or for a large bundle alone with GET /objects/{id}, which streams its contents`);
      failures.set(err.status, [...(failures.get(err.status) ?? []), String(id)]);
      continue;
    }
    listed += Array.isArray(item?.contents) ? item.contents.length : 0;
    // `one` refuses a bundle past what is left before reading it; this stays as the backstop.
    if (listed > maxContents) throw new DrsError(413, `the bundles asked for list more than ${maxContents} objects in all: ask for fewer per request`);
    resolved.push(item);
  }
  return {
    summary: { requested: ids.length, resolved: resolved.length, unresolved: ids.length - resolved.length },
    unresolved_drs_objects: [...failures].map(([error_code, object_ids]) => ({ error_code, object_ids })),
    [field]: resolved,
  };
}

/**
 * DRS for the Fastify front door's route list (a plugin registered with the door as options):
 * `drsDoorPlugin(passports)` takes the door's one `authenticate` and the access module's user
 * directory. Typed structurally, so it needs nothing from the door's module.
 */
export function drsDoorPlugin(passports: PassportVerifier, limits: Pick<DrsRoutesOptions, 'maxBulkContents'> = {}): FastifyPluginAsync<{
  authenticate: (request: FastifyRequest) => Promise<Principal | null>;
  access: { orm: MikroORM; users: { record: (em: EntityManager, user: Principal | null) => Promise<unknown> } };
}> {
  return async (app, door) => {
    await app.register(drsRoutes, {
      orm: door.access.orm, authenticate: door.authenticate, passports, ...limits,
      recordUser: async (em, user) => { await door.access.users.record(em, user); },
    });
  };
}
