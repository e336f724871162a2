import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../src/context.js';
import { DownloadFormat, DownloadLink, DownloadTargetInput } from './types.js';

@Resolver()
export class DownloadResolver {
  @Mutation(() => DownloadLink, { description: 'A signed, expiring link to a zip of the target\'s de-identified DICOM files, bound to the caller.' })
  async createDownloadLink(
    @Arg('target', () => DownloadTargetInput, { description: 'What to download: a collection, a study or a series.' }) target: DownloadTargetInput,
    @Arg('format', () => DownloadFormat, { description: 'The archive format; DICOM_ZIP (the only one) when omitted.', defaultValue: DownloadFormat.DICOM_ZIP }) _format: DownloadFormat,
    @Ctx() ctx: RequestContext,
  ) {
    const { url, expiresAt } = await ctx.access.downloads.createLink(target);
    return { url, expiresAt };
  }
}
