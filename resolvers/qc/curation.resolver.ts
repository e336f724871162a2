import { Arg, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { rowId } from '../../src/graphql/ids.js';
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
  reviewSeries(@Arg('uid', { description: 'The series\' de-identified SeriesInstanceUID.' }) uid: string,
    @Arg('verdict', () => QcVerdict, { description: 'PASS or FAIL.' }) verdict: QcVerdict,
    @Arg('note', { defaultValue: '', description: 'What the curator saw; required in practice for FAIL, shown to the submitter.' }) note: string,
    @Arg('imageCount', () => Int, { nullable: true, description: 'How many images the curator looked at (Series.imageCount when the review began): refused with CONFLICT when the series holds another number now, so a verdict never covers images that arrived unseen.' }) imageCount: number | null,
    @Ctx() ctx: RequestContext) {
    return curation(ctx).reviewSeries(uid, verdict, note, imageCount ?? null);
  }

  @Mutation(() => SubmissionFile, { description: 'Asks the submitter to repair a file, saying what is wrong. Curators only.' })
  requestRepair(@Arg('file', () => ID, { description: 'The file\'s id (SubmissionFile.id).' }) file: string,
    @Arg('message', { description: 'What is wrong and what to send, shown to the submitter.' }) message: string, @Ctx() ctx: RequestContext) {
    return curation(ctx).requestRepair(rowId(file, 'file'), message);
  }

  @Mutation(() => SubmissionFile, { description: 'Resolves a quarantined file: DISCARD it, or REPROCESS it (with `repair` supplying what was missing), which starts the pipeline over it again and answers at once with the file as it is then; the end of the run is seen on submissionProgress. Its submitter or a curator.' })
  resolveQuarantined(@Arg('file', () => ID, { description: 'The quarantined file\'s id (SubmissionFile.id).' }) file: string,
    @Arg('action', () => QuarantineAction, { description: 'DISCARD or REPROCESS.' }) action: QuarantineAction,
    @Arg('repair', () => RepairInput, { nullable: true, description: 'For REPROCESS: what the file was missing (e.g. its local patient ID).' }) repair: RepairInput | null, @Ctx() ctx: RequestContext) {
    return curation(ctx).resolveQuarantined(rowId(file, 'file'), action, repair);
  }

  @Mutation(() => ReleaseOutcomeView, { description: 'Releases a collection to the public, or refuses with the reasons (unreviewed or failed series, images held for pixel review, unresolved quarantined files, files still processing). Curators only.' })
  releaseCollection(@Arg('accession', { description: 'The collection\'s accession (OBIA + 4 digits).' }) accession: string, @Ctx() ctx: RequestContext) {
    return curation(ctx).releaseCollection(accession);
  }
}
