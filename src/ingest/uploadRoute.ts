import type { RoutePlugin } from '../http/server.js';
import { BadUserInputError, NotFoundError, ServiceUnavailableError, UnauthenticatedError, UnsupportedMediaTypeError } from '../errors.js';
import { fileNameProblem } from './staging.js';

/**
 * A header's value as the UTF-8 its client sent: Node reads header bytes as Latin-1, so a raw
 * UTF-8 "série—1.dcm" arrives as "sÃ©rieâ\x80\x941.dcm" (C1 controls the name check refuses).
 * Bytes that are not UTF-8 stay as Node read them.
 */
function utf8Header(value: string): string {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1')); } catch { return value; }
}

/** Files an upload's answer lists; `received` counts them all. */
export const LISTED_FILES = 1000;

/**
 * `PUT`/`POST /submissions/<id>/files[?name=…]`: one DICOM file or a zip of them as the raw
 * body, with the submitter's bearer token (the same `authenticate` as every transport). The body
 * is not parsed or buffered here: it streams into staging, which enforces the per-file and zip
 * limits itself. A multipart body (curl -F, an HTML form) is refused with 415: staged as it
 * came, the envelope became one file of form boundaries, quarantined as not DICOM.
 */
export const uploadRoute: RoutePlugin = async (app, door) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const handler = async (request: import('fastify').FastifyRequest<{ Params: { id: string }; Querystring: { name?: string } }>, reply: import('fastify').FastifyReply) => {
    const ctx = await door.createContext(request);
    if (!ctx.user) throw new UnauthenticatedError('sign in: send Authorization: Bearer <token>');
    if (!ctx.ingest) throw new ServiceUnavailableError('submissions are not enabled on this server');
    if (/^\s*multipart\//i.test(request.headers['content-type'] ?? '')) {
      throw new UnsupportedMediaTypeError('send the file itself as the body (curl -T file.dcm, or --data-binary @file.dcm), or a zip of several files; multipart forms are not unpacked');
    }
    const id = Number(request.params.id);
    if (!/^\d{1,12}$/.test(request.params.id)) throw new NotFoundError(`no submission you may upload to`);
    const header = request.headers['x-file-name'];
    const given: unknown = request.query.name ?? (typeof header === 'string' ? utf8Header(header) : header) ?? 'upload';
    // Refused before a byte of the body is read (the body is drained, so the client reads the 400).
    const problem = fileNameProblem(given);
    if (problem) {
      request.raw.resume();
      throw new BadUserInputError(`${problem}; send it as ?name=<file name> or X-File-Name`);
    }
    const name = (given as string).normalize('NFC');
    try {
      const files = await ctx.ingest.submissions.receive(ctx.user, id, request.raw, name);
      // Files are named as GraphQL names them (SubmissionFile.id is an ID: a string). A zip may
      // bring 200,000, whose list was a 30 MB answer built in memory at once: past LISTED_FILES the
      // answer counts them all and lists the first; the submission's `files` pages through the rest.
      const listed = files.slice(0, LISTED_FILES).map((f) => ({ ...f, id: String(f.id) }));
      return reply.code(201).send({
        received: files.length, files: listed,
        ...(files.length > listed.length ? { more: `${files.length - listed.length} more files were received: page through them with submission(id).files(first, after)` } : {}),
      });
    } catch (err) {
      // receive() checks the submission before it reads a byte of the body; hidden = absent.
      if ((err as { extensions?: { code?: unknown } }).extensions?.code === 'NOT_FOUND') throw new NotFoundError(`no submission ${id} you may upload to`);
      throw err;
    }
  };
  // The body streams into staging (bounded there, cut by the idle timeout), not into memory.
  const config = { streamsBody: true };
  app.put('/submissions/:id/files', { config }, handler);
  app.post('/submissions/:id/files', { config }, handler);
};
