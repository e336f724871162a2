import { Arg, Ctx, Field, FieldResolver, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { pubSub, Topic } from '../src/events/pubsub.js';
import type { RequestContext } from '../src/context.js';
import { Accessibility, Sex } from '../src/domain.js';
import { Collection, Submission, SubmissionFile } from '../src/entities/index.js';
import { SubmissionState } from '../src/entities/Submission.js';
import { FileState } from '../src/entities/SubmissionFile.js';
import type { Ingest } from '../src/ingest/index.js';
import { Action } from '../src/access/policy.js';
import { ServiceUnavailableError } from '../src/errors.js';
import { logger } from '../src/log.js';

@InputType({ description: 'De-identification options; omitted ones take the OBIA defaults (all six on).' })
class DeidOptionsInput {
  @Field({ nullable: true }) cleanPixelData?: boolean;
  @Field({ nullable: true }) cleanDescriptors?: boolean;
  @Field({ nullable: true }) retainLongitudinalModifiedDates?: boolean;
  @Field({ nullable: true }) retainPatientCharacteristics?: boolean;
  @Field({ nullable: true }) retainDeviceIdentity?: boolean;
  @Field({ nullable: true }) retainSafePrivate?: boolean;
}

@InputType()
class CreateSubmissionInput {
  @Field() title!: string;
  @Field({ nullable: true }) description?: string;
  @Field(() => [String], { nullable: true }) keywords?: string[];
  @Field() disease!: string;
  @Field(() => Accessibility, { nullable: true }) accessibility?: Accessibility;
  @Field({ nullable: true, description: 'PRJCA, PRJNA, PRJEB or PRJDB followed by digits.' }) bioProjectAccession?: string;
  @Field(() => DeidOptionsInput, { nullable: true }) deidOptions?: DeidOptionsInput;
  @Field({ nullable: true, description: 'Add to this existing collection (OBIA accession) instead of a new one.' }) collection?: string;
}

@InputType({ description: 'Clinical data for one local patient. The local ID is only used to match files; the archive keeps a keyed hash of it.' })
class ClinicalRecordInput {
  @Field() localPatientId!: string;
  @Field(() => Sex, { nullable: true }) sex?: Sex;
  @Field(() => Int, { nullable: true }) age?: number;
  @Field({ nullable: true }) species?: string;
  @Field({ nullable: true }) disease?: string;
  @Field({ nullable: true }) pathologicalType?: string;
  @Field({ nullable: true }) medicalHistory?: string;
  @Field({ nullable: true }) familyHistory?: string;
  @Field({ nullable: true }) treatment?: string;
  @Field({ nullable: true, description: 'The patient\'s GSA-Human individual (HRI + 6 to 9 digits) or dataset (HRA + digits) accession; links the individual to its sequencing data. Omitted: an existing link is kept.' }) gsaHumanAccession?: string;
}

@ObjectType()
class FileStateCount {
  @Field(() => FileState) state!: FileState;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'Counts of a submission\'s files per pipeline state.' })
export class SubmissionProgress {
  @Field(() => Int) submissionId!: number;
  @Field(() => SubmissionState) state!: SubmissionState;
  @Field(() => Int) total!: number;
  @Field(() => [FileStateCount]) counts!: FileStateCount[];
}

@ObjectType({ description: 'What processSubmission did.' })
class ProcessResult {
  @Field(() => Int) submissionId!: number;
  @Field(() => Int) ingested!: number;
  @Field(() => Int) quarantined!: number;
  @Field(() => Int) duplicates!: number;
  @Field(() => Int, { description: 'Files not yet in a final state.' }) pending!: number;
  @Field(() => Int, { description: 'Clinical records whose patient no file had.' }) unmatchedClinicalRecords!: number;
}

export function ingestOf(ctx: RequestContext): Ingest {
  if (!ctx.ingest) throw new ServiceUnavailableError('submissions are not enabled on this server');
  return ctx.ingest;
}

export async function progressOf(ingest: Ingest, submission: Submission): Promise<SubmissionProgress> {
  const counts = await ingest.submissions.countsByState(submission.id);
  return {
    submissionId: submission.id, state: submission.state,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    counts: Object.entries(counts).map(([state, count]) => ({ state: state as FileState, count })),
  };
}

/**
 * The submission's progress topic, led by one event standing for "now": the live events are
 * subscribed to first, so nothing that happens while the current state is read is lost.
 */
async function* currentThenLive(submissionId: string): AsyncGenerator<{ submissionId: string }> {
  const live = pubSub.subscribe(Topic.SUBMISSION_PROGRESS, submissionId)[Symbol.asyncIterator]();
  // Asking for the first live event is what starts listening (the iterator is lazy): do it before "now".
  const next = live.next();
  try {
    yield { submissionId };
    for (let r = await next; !r.done; r = await live.next()) yield r.value;
  } finally {
    await live.return?.();
  }
}

@Resolver(() => Submission)
export class SubmissionResolver {
  @Mutation(() => Submission, { description: 'Starts a submission (and its DRAFT collection). Submitters and curators only.' })
  async createSubmission(@Arg('input', () => CreateSubmissionInput) input: CreateSubmissionInput, @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'data');
    return ingestOf(ctx).submissions.create(ctx.user!, { ...input, collectionAccession: input.collection ?? null });
  }

  @Mutation(() => Int, { description: 'Stages clinical data per local patient; returns how many records were accepted.' })
  async addClinicalData(@Arg('submission', () => Int) submission: number, @Arg('records', () => [ClinicalRecordInput]) records: ClinicalRecordInput[], @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'clinical data');
    return ingestOf(ctx).submissions.addClinicalData(ctx.user!, submission, records);
  }

  @Mutation(() => Int, { description: 'Clinical data as CSV (header: patient_id, sex, age, species, disease, pathological_type, medical_history, family_history, treatment, gsa_human_accession).' })
  async addClinicalDataCsv(@Arg('submission', () => Int) submission: number, @Arg('csv') csv: string, @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'clinical data');
    return ingestOf(ctx).submissions.addClinicalCsv(ctx.user!, submission, csv);
  }

  @Mutation(() => Submission, {
    description: 'Starts the ingest pipeline over every unfinished file and returns the submission as it is now, without waiting: '
      + 'progress flows over `submissionProgress`, whose first event is the current state. Safe to repeat (a run in progress is joined; a finished one resumes what is left).',
  })
  async startProcessing(@Arg('submission', () => Int, { description: 'The submission\'s id.' }) submission: number, @Ctx() ctx: RequestContext) {
    const ingest = ingestOf(ctx);
    const found = await ingest.submissions.findOrFail(ctx.user, submission, ctx.em, Action.PROCESS);
    // The run outlives this request; its failures are the pipeline's to record per file, and logged here.
    ingest.pipeline.process(submission).catch((err) => logger.error({ err, submission }, 'ingest run failed'));
    return found;
  }

  @Mutation(() => ProcessResult, {
    description: 'Runs the ingest pipeline over every unfinished file and answers when the run ends; safe to repeat (it resumes).',
    deprecationReason: 'Holds the request for the whole ingest: use startProcessing and the submissionProgress subscription. Removed in the next release.',
  })
  async processSubmission(@Arg('id', () => Int, { description: 'The submission\'s id.' }) id: number, @Ctx() ctx: RequestContext) {
    const ingest = ingestOf(ctx);
    await ingest.submissions.findOrFail(ctx.user, id, ctx.em, Action.PROCESS);
    return ingest.pipeline.process(id);
  }

  @Mutation(() => Int, { description: 'Curators: delete the received bytes of files that reached a final state (the staging area holds identifying data); returns how many were removed.' })
  async discardStagedFiles(@Arg('submission', () => Int) submission: number, @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.DISCARD_STAGED, null, `submission ${submission}`);
    return ingestOf(ctx).submissions.discardStaged(ctx.user!, submission);
  }

  @Query(() => Submission, { nullable: true, description: 'A submission you submitted (curators: any); null otherwise.' })
  async submission(@Arg('id', () => Int) id: number, @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.find(ctx.user, id);
  }

  @Subscription(() => SubmissionProgress, {
    description: 'Counts per file state (graphql-ws): first the current state, then again whenever a file of the submission changes state, '
      + 'so a client that subscribes late misses nothing.',
    subscribe: ({ args }) => currentThenLive(String(args.id)),
  })
  async submissionProgress(@Arg('id', () => Int, { description: 'The submission\'s id.' }) id: number, @Ctx() ctx: RequestContext) {
    // Payloads carry only the id: counts are re-read for, and only shown to, a subscriber who may see them.
    const submission = await ingestOf(ctx).submissions.findOrFail(ctx.user, id, ctx.em.fork(), Action.VIEW_SUBMISSION);
    return progressOf(ingestOf(ctx), submission);
  }

  @FieldResolver(() => String, { description: 'Where to PUT or POST DICOM files or a zip of them, with your bearer token (path on this server).' })
  uploadUrl(@Root() submission: Submission) {
    return `/submissions/${submission.id}/files`;
  }

  @FieldResolver(() => Collection, { description: 'The collection the submission fills.' })
  async collection(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    return ctx.em.findOneOrFail(Collection, { id: submission.collection.id });
  }

  @FieldResolver(() => SubmissionProgress)
  async progress(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    return progressOf(ingestOf(ctx), submission);
  }

  @FieldResolver(() => [SubmissionFile], { description: 'Every file received, with its state.' })
  async files(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    if (!(await ctx.session.can(Action.VIEW_SUBMISSION, submission))) return [];
    return ingestOf(ctx).submissions.files(submission.id);
  }
}
