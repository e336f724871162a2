import { readVerifiedBlob } from '../../access/blobs';
import { Action } from '../../access/policy';
import { NotFoundError, StorageCorruptError } from '../../errors';
import { BlobCorruptError } from '../../storage/VerifiedReader';
import type { RoutePlugin } from '../../http/server';
import { redactionPreviewPng } from './preview';
import type { RedactedRegion } from './scan';

const UID = /^[0-9.]{3,64}$/;

/**
 * `GET /redactions/<image UID>.png`: the stored image's first frame with the regions the
 * burned-in text check blanked outlined in red (GraphQL `Image.burnedInText.previewUrl`), for
 * curators confirming a redaction. Curators only; never cached by anyone else.
 */
export const redactionPreviewRoutes: RoutePlugin = async (app, door) => {
  app.get<{ Params: { file: string } }>('/redactions/:file', async (request, reply) => {
    const uid = request.params.file.endsWith('.png') ? request.params.file.slice(0, -4) : '';
    if (!UID.test(uid)) throw new NotFoundError('not found');
    const ctx = await door.createContext(request);
    await ctx.session.assertCan(Action.CURATE, undefined, 'redaction previews');
    const row: { sha256: string; burned_in_text: unknown } | undefined = await ctx.em.getKnex()('image').where('uid', uid).first('sha256', 'burned_in_text');
    if (!row?.burned_in_text) throw new NotFoundError('no burned-in text check is recorded for this image');
    const record = (typeof row.burned_in_text === 'string' ? JSON.parse(row.burned_in_text) : row.burned_in_text) as { regions: RedactedRegion[] };
    const bytes = await readVerifiedBlob(door.access.blobs, row.sha256).catch((err) => {
      throw err instanceof BlobCorruptError ? new StorageCorruptError() : err;
    });
    if (!bytes) throw new NotFoundError('the stored file is missing');
    const png = await redactionPreviewPng(bytes, record.regions);
    return reply.headers({ 'content-type': 'image/png', 'cache-control': 'private, no-store' }).send(png);
  });
};
