import { GraphQLError } from 'graphql';
import type http from 'node:http';
import type { RequestContext } from '../context.js';
import { HttpError, sendJson, type Route } from '../http/router.js';
import type { Ingest } from './index.js';
import { UploadError } from './staging.js';

/**
 * `PUT`/`POST /submissions/<id>/files[?name=…]`: one DICOM file or a zip of them as the raw
 * body, with the submitter's bearer token (verified exactly as for GraphQL).
 */
export function uploadRoute(ingest: Ingest, createContext: (authorization?: string | null) => Promise<RequestContext>): Route[] {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const id = Number(/^\/submissions\/(\d+)\/files$/.exec(url.pathname)![1]);
    let ctx: RequestContext;
    try {
      ctx = await createContext(req.headers.authorization);
    } catch (err) {
      if (err instanceof GraphQLError) throw new HttpError(401, err.message);
      throw err;
    }
    if (!ctx.user) throw new HttpError(401, 'sign in: send Authorization: Bearer <token>');
    try {
      const name = url.searchParams.get('name') ?? (typeof req.headers['x-file-name'] === 'string' ? req.headers['x-file-name'] : 'upload');
      const files = await ingest.submissions.receive(ctx.user, id, req, name);
      sendJson(res, 201, { files });
    } catch (err) {
      if (err instanceof UploadError) throw new HttpError(err.status, err.message);
      // receive() checks the submission before it reads a byte of the body.
      if (err instanceof GraphQLError && err.extensions.code === 'NOT_FOUND') throw new HttpError(404, `no submission ${id} you may upload to`);
      if (err instanceof GraphQLError) throw new HttpError(403, err.message);
      throw err;
    }
  };
  return [
    { method: 'PUT', path: /^\/submissions\/\d+\/files$/, handle },
    { method: 'POST', path: /^\/submissions\/\d+\/files$/, handle },
  ];
}
