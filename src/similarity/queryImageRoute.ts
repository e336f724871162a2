import { BadUserInputError } from '../errors.js';
import type { RoutePlugin } from '../http/server.js';
import { decodeImage } from '../retrieval/decode.js';
import type { HashCatalog } from './HashCatalog.js';
import type { QueryImages } from './QueryImages.js';
import { MAX_UPLOAD_BYTES } from './SimilarImagesService.js';

/**
 * `POST /query-images`: a DICOM, PNG or JPEG file as the raw body (at most 20 MB), from anyone
 * who may browse. Answers 201 `{ id, expiresAt }`; pass the id as `similarImages(image: { upload })`.
 * The image is hashed here and dropped; only its code is kept, for ten minutes.
 */
export function queryImageRoute(catalog: HashCatalog, uploads: QueryImages): RoutePlugin {
  return async (app, door) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_request, body, done) => done(null, body));
    app.post('/query-images', { bodyLimit: MAX_UPLOAD_BYTES }, async (request, reply) => {
      const ctx = await door.createContext(request);
      const bytes = request.body as Buffer | undefined;
      if (!bytes?.length) throw new BadUserInputError('Send the image as the request body.', 'body');
      let gray;
      try {
        gray = await decodeImage(new Uint8Array(bytes));
      } catch {
        throw new BadUserInputError('The uploaded file is not a readable DICOM, PNG or JPEG image.', 'body');
      }
      const code = await catalog.hashQueryImage(gray);
      const owner = ctx.user?.id ?? null;
      return reply.code(201).send(uploads.put(code, owner, Date.now(), owner ?? `anonymous@${request.ip}`));
    });
  };
}
