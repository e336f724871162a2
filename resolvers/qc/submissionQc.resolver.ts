import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { rowId } from '../../src/graphql/ids.js';
import { Action } from '../../src/access/policy.js';
import type { RequestContext } from '../../src/context.js';
import { Submission } from '../../src/entities/index.js';
import { QcEvent } from '../../src/entities/QcEvent.js';
import { FileState } from '../../src/entities/SubmissionFile.js';
import { pubSub, Topic } from '../../src/events/pubsub.js';
import { releaseBlockers } from '../../src/qc/blockers.js';
import { currentCensus } from '../../src/qc/CensusService.js';
import { CurationService, MAX_HISTORY } from '../../src/qc/CurationService.js';
import { attachQcEvents } from '../../src/qc/pipelineEvents.js';
import { ingestOf } from '../submission.resolver.js';
import { QcEventNotice, QcSummaryView, TagCensusEntryView } from './qc.types.js';

// The `submission` query only returns a submission to its submitter and curators, so these
// fields need no check of their own: whoever holds the root may read them.
@Resolver(() => Submission)
export class SubmissionQcResolver {
  @FieldResolver(() => [TagCensusEntryView], { description: 'Every tag seen in the de-identified files, with counts and sample values, to confirm no PHI is left. Kept up to date as files are stored.' })
  async tagCensus(@Root() submission: Submission, @Ctx() ctx: RequestContext,
    @Arg('textOnly', { defaultValue: false, description: 'Only tags with text values.' }) textOnly: boolean,
    @Arg('retainedOnly', { defaultValue: false, description: 'Only tags the de-identification profile retained.' }) retainedOnly: boolean) {
    const census = await currentCensus(ctx.em, ingestOf(ctx).store, submission.id);
    return census.entries({ textOnly, retainedOnly }).map(({ distinctCapped, ...e }) => ({ ...e, distinctValuesCapped: distinctCapped }));
  }

  @FieldResolver(() => [QcEvent], { description: `The QC and curation decisions about this submission and its collection (who, when, why), oldest first: at most \`first\` (${MAX_HISTORY}) of them, after the event \`after\`; for the next ones pass the last one's id as \`after\`.` })
  async qcHistory(@Root() submission: Submission, @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: MAX_HISTORY, description: `How many events (0 to ${MAX_HISTORY}).` }) first: number,
    @Arg('after', () => ID, { nullable: true, description: 'Only events after this one (a QcEvent id).' }) after: string | null) {
    return new CurationService(ctx.em, ctx.user, ingestOf(ctx)).history(submission, first, after == null ? 0 : rowId(after, 'after'));
  }

  @FieldResolver(() => QcSummaryView, { description: 'Quarantined and duplicate files, and what still stands in the way of release.' })
  async qcSummary(@Root() submission: Submission, @Ctx() ctx: RequestContext): Promise<QcSummaryView> {
    const knex = ctx.em.getKnex();
    const rows: { state: string; n: number }[] = await knex('submission_file').where('submission_id', submission.id)
      .whereIn('state', [FileState.QUARANTINED, FileState.DUPLICATE]).groupBy('state').select('state').count({ n: '*' });
    const n = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    const resolved = await knex('file_curation as c').join('submission_file as f', 'f.id', 'c.file_id')
      .where('f.submission_id', submission.id).where('f.state', FileState.QUARANTINED).where('c.resolution', 'DISCARD').count({ n: '*' }).first();
    return {
      quarantined: n(FileState.QUARANTINED), duplicates: n(FileState.DUPLICATE),
      unresolvedQuarantined: n(FileState.QUARANTINED) - Number(resolved?.n ?? 0),
      releaseBlockers: await releaseBlockers(ctx.em, submission.collection.id),
    };
  }

  @Subscription(() => QcEventNotice, {
    description: 'Quarantines, duplicates, reviews, repair requests and releases concerning a submission, as they happen (graphql-ws).',
    // A subscribe function instead of `topics`: subscribing is also when live recording of the
    // pipeline's quarantines must be on (attachQcEvents is idempotent per pipeline).
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      const id = rowId(args.submission, 'submission');
      // Refused at once to whoever may not see the submission: a subscription accepted and refused
      // only per event told a stranger each time another's submission had a QC decision.
      await ingestOf(ctx).submissions.findOrFail(ctx.user, id, ctx.em.fork(), Action.VIEW_SUBMISSION);
      attachQcEvents(ctx.em, ingestOf(ctx));
      return pubSub.subscribe(Topic.QC_EVENTS, String(id));
    },
  })
  async qcEvents(@Root() payload: { submissionId: string; kind: string; subject: string; message: string; at: Date },
    @Arg('submission', () => ID, { description: 'The submission\'s id (Submission.id).' }) submission: string, @Ctx() ctx: RequestContext): Promise<QcEventNotice> {
    // Re-checked for every event: the payload goes only to who may see the submission now.
    await ingestOf(ctx).submissions.findOrFail(ctx.user, rowId(submission, 'submission'), ctx.em.fork(), Action.VIEW_SUBMISSION);
    return { ...payload, submissionId: Number(payload.submissionId), kind: payload.kind as QcEventNotice['kind'] };
  }
}
