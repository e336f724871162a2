import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../src/context.js';
import { Series, Study, SubmissionFile } from '../../src/entities/index.js';
import { QuarantineAction } from '../../src/entities/FileCuration.js';
import { QcVerdict, SeriesReview } from '../../src/entities/SeriesReview.js';
import { Action } from '../../src/access/policy.js';
import { ReviewState } from './qc.types.js';

/** Review notes are the curators' working notes: curators and the collection's submitter only. */
async function mayReadReviews(ctx: RequestContext, collectionId: number): Promise<boolean> {
  if (!ctx.user) return false;
  if (await ctx.session.can(Action.CURATE)) return true;
  const collection = await ctx.loaders.collectionById.load(collectionId);
  // The collection's submitter: the same rule as seeing their own submission.
  return !!collection && ctx.session.can(Action.VIEW_SUBMISSION, { id: collection.id, submitter: collection.submitter });
}

function stateOf(verdicts: (QcVerdict | null)[]): ReviewState {
  if (verdicts.some((v) => v === QcVerdict.FAIL)) return ReviewState.FAILED;
  if (verdicts.length > 0 && verdicts.every((v) => v === QcVerdict.PASS)) return ReviewState.PASSED;
  return verdicts.some((v) => v !== null) ? ReviewState.IN_REVIEW : ReviewState.UNREVIEWED;
}

@Resolver(() => Series)
export class SeriesReviewResolver {
  @FieldResolver(() => SeriesReview, { nullable: true, description: 'The current curator verdict (curators and the collection\'s submitter; null for others).' })
  async review(@Root() series: Series, @Ctx() ctx: RequestContext) {
    if (!(await mayReadReviews(ctx, series.collection.id))) return null;
    return ctx.loaders.seriesReview.load(series.id);
  }

  @FieldResolver(() => ReviewState, { nullable: true, description: 'Where the series is in visual review (curators and the collection\'s submitter).' })
  async reviewState(@Root() series: Series, @Ctx() ctx: RequestContext) {
    if (!(await mayReadReviews(ctx, series.collection.id))) return null;
    return stateOf([(await ctx.loaders.seriesReview.load(series.id))?.verdict ?? null]);
  }
}

@Resolver(() => Study)
export class StudyReviewResolver {
  @FieldResolver(() => ReviewState, { nullable: true, description: 'Visual review of the study\'s series taken together (curators and the collection\'s submitter).' })
  async reviewState(@Root() study: Study, @Ctx() ctx: RequestContext) {
    if (!(await mayReadReviews(ctx, study.collection.id))) return null;
    return stateOf(await ctx.loaders.studyVerdicts.load(study.id));
  }
}

// SubmissionFile rows are only handed out by `submission.files`, which already limits them
// to the submitter and curators.
@Resolver(() => SubmissionFile)
export class FileCurationResolver {
  @FieldResolver(() => String, {
    description: 'The name the file was sent under (or its path inside the zip) while its received bytes are staged; a neutral label '
      + '("uploaded file", "zip entry 12") once they are discarded. Names can identify patients, so the archive keeps them only in staging.',
  })
  async originalName(@Root() file: SubmissionFile, @Ctx() ctx: RequestContext) {
    return (await ctx.ingest?.staging.nameOf(file.stagingPath)) ?? file.originalName;
  }

  @FieldResolver(() => String, { nullable: true, description: 'What a curator asked the submitter to repair, if anything.' })
  async repairRequest(@Root() file: SubmissionFile, @Ctx() ctx: RequestContext) {
    return (await ctx.loaders.fileCuration.load(file.id))?.repairRequest ?? null;
  }

  @FieldResolver(() => QuarantineAction, { nullable: true, description: 'How a quarantine was resolved (REPROCESS or DISCARD), if it was.' })
  async resolution(@Root() file: SubmissionFile, @Ctx() ctx: RequestContext) {
    return (await ctx.loaders.fileCuration.load(file.id))?.resolution ?? null;
  }
}
