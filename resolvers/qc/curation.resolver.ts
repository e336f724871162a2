import { Arg, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../src/context.js';
import { SubmissionFile } from '../../src/entities/index.js';
import { QuarantineAction } from '../../src/entities/FileCuration.js';
import { QcVerdict, SeriesReview } from '../../src/entities/SeriesReview.js';
import { CurationService } from '../../src/qc/CurationService.js';
import { ingestOf } from '../submission.resolver.js';
import { ReleaseOutcomeView, RepairInput } from './qc.types.js';

function curation(ctx: RequestContext): CurationService {
  return new CurationService(ctx.em, ctx.user, ingestOf(ctx));
}

@Resolver()
export class CurationResolver {
  @Mutation(() => SeriesReview, { description: 'A curator\'s verdict on a series after looking at it (thumbnails, preview). PASS also accepts its images held for pixel review. Curators only.' })
  reviewSeries(@Arg('uid') uid: string, @Arg('verdict', () => QcVerdict) verdict: QcVerdict, @Arg('note', { defaultValue: '' }) note: string, @Ctx() ctx: RequestContext) {
    return curation(ctx).reviewSeries(uid, verdict, note);
  }

  @Mutation(() => SubmissionFile, { description: 'Asks the submitter to repair a file, saying what is wrong. Curators only.' })
  requestRepair(@Arg('file', () => Int) file: number, @Arg('message') message: string, @Ctx() ctx: RequestContext) {
    return curation(ctx).requestRepair(file, message);
  }

  @Mutation(() => SubmissionFile, { description: 'Resolves a quarantined file: DISCARD it, or REPROCESS it (with `repair` supplying what was missing), after which it runs through the pipeline again. Its submitter or a curator.' })
  resolveQuarantined(@Arg('file', () => Int) file: number, @Arg('action', () => QuarantineAction) action: QuarantineAction,
    @Arg('repair', () => RepairInput, { nullable: true }) repair: RepairInput | null, @Ctx() ctx: RequestContext) {
    return curation(ctx).resolveQuarantined(file, action, repair);
  }

  @Mutation(() => ReleaseOutcomeView, { description: 'Releases a collection to the public, or refuses with the reasons (unreviewed or failed series, images held for pixel review, unresolved quarantined files, files still processing). Curators only.' })
  releaseCollection(@Arg('accession') accession: string, @Ctx() ctx: RequestContext) {
    return curation(ctx).releaseCollection(accession);
  }
}
