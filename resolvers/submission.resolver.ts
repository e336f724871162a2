import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
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
import { rowId } from '../src/graphql/ids.js';
import { Connection, fromPage } from './types/connection.js';
import { PageArgs } from './types/PageArgs.js';

@InputType({ description: 'De-identification options; omitted ones take the OBIA defaults (all six on).' })
class DeidOptionsInput {
  @Field({ nullable: true, description: 'Clean Pixel Data: hold images that may carry burned-in text for pixel review.' }) cleanPixelData?: boolean;
  @Field({ nullable: true, description: 'Clean Descriptors: remove free-text descriptions that may identify.' }) cleanDescriptors?: boolean;
  @Field({ nullable: true, description: 'Retain Longitudinal Temporal Information with Modified Dates: shift dates by a per-individual offset instead of removing them.' }) retainLongitudinalModifiedDates?: boolean;
  @Field({ nullable: true, description: 'Retain Patient Characteristics: keep sex, age, size and weight.' }) retainPatientCharacteristics?: boolean;
  @Field({ nullable: true, description: 'Retain Device Identity: keep manufacturer, model and station attributes.' }) retainDeviceIdentity?: boolean;
  @Field({ nullable: true, description: 'Retain Safe Private: keep private attributes that are purely numeric or listed as safe.' }) retainSafePrivate?: boolean;
}

@InputType({ description: 'What a new submission deposits: the metadata of the collection it fills.' })
class CreateSubmissionInput {
  @Field({ description: 'Title of the collection (at most 500 characters).' }) title!: string;
  @Field({ nullable: true, description: 'Free-text description of the collection.' }) description?: string;
  @Field(() => [String], { nullable: true, description: 'Keywords that browse and keyword search match.' }) keywords?: string[];
  @Field({ description: 'The disease the collection is about; also the default disease of its individuals.' }) disease!: string;
  @Field(() => Accessibility, { nullable: true, description: 'OPEN (public once released) or CONTROLLED (files only on an approved access request); OPEN when omitted.' }) accessibility?: Accessibility;
  @Field({ nullable: true, description: 'PRJCA, PRJNA, PRJEB or PRJDB followed by digits.' }) bioProjectAccession?: string;
  @Field(() => DeidOptionsInput, { nullable: true, description: 'De-identification options; the OBIA defaults when omitted.' }) deidOptions?: DeidOptionsInput;
  @Field({ nullable: true, description: 'Add to this existing collection (OBIA accession) instead of a new one.' }) collection?: string;
}

@InputType({ description: 'Clinical data for one local patient. The local ID is only used to match files; the archive keeps a keyed hash of it.' })
class ClinicalRecordInput {
  @Field({ description: 'The PatientID the files of this patient carry; matched, never stored in clear.' }) localPatientId!: string;
  @Field(() => Sex, { nullable: true, description: 'Sex of the individual.' }) sex?: Sex;
  @Field(() => Int, { nullable: true, description: 'Age in years at the first study.' }) age?: number;
  @Field({ nullable: true, description: 'Species (Homo sapiens when omitted).' }) species?: string;
  @Field({ nullable: true, description: 'Disease or diagnosis; the submission\'s disease when omitted.' }) disease?: string;
  @Field({ nullable: true, description: 'Pathological type of the disease.' }) pathologicalType?: string;
  @Field({ nullable: true, description: 'Relevant medical history, free text without identifiers.' }) medicalHistory?: string;
  @Field({ nullable: true, description: 'Relevant family history, free text without identifiers.' }) familyHistory?: string;
  @Field({ nullable: true, description: 'Treatment received, free text without identifiers.' }) treatment?: string;
  @Field({ nullable: true, description: 'The patient\'s GSA-Human individual (HRI + 6 to 9 digits) or dataset (HRA + digits) accession; links the individual to its sequencing data. Omitted: an existing link is kept.' }) gsaHumanAccession?: string;
}

@ObjectType({ description: 'How many of a submission\'s files are in one pipeline state.' })
class FileStateCount {
  @Field(() => FileState, { description: 'The pipeline state.' }) state!: FileState;
  @Field(() => Int, { description: 'Files in that state.' }) count!: number;
}

@ObjectType({ description: 'Counts of a submission\'s files per pipeline state.' })
export class SubmissionProgress {
  @Field(() => ID, { description: 'The submission these counts are of.' }) submissionId!: number;
  @Field(() => SubmissionState, { description: 'PROCESSING while a run is under way; PROCESSED once it has ended.' }) state!: SubmissionState;
  @Field(() => Int, { description: 'Files received.' }) total!: number;
  @Field(() => [FileStateCount], { description: 'Files per pipeline state, every state listed (zero included).' }) counts!: FileStateCount[];
  @Field(() => Int, { description: 'Clinical records whose local patient no file of the submission has (yet).' }) unmatchedClinicalRecords!: number;
}

export const SubmissionFileConnection = Connection(SubmissionFile, 'SubmissionFile');

export function ingestOf(ctx: RequestContext): Ingest {
  if (!ctx.ingest) throw new ServiceUnavailableError('submissions are not enabled on this server');
  return ctx.ingest;
}

export async function progressOf(ingest: Ingest, submission: Submission): Promise<SubmissionProgress> {
  const [counts, summary] = await Promise.all([ingest.submissions.countsByState(submission.id), ingest.pipeline.summary(submission.id)]);
  return {
    submissionId: submission.id, state: submission.state,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    counts: Object.entries(counts).map(([state, count]) => ({ state: state as FileState, count })),
    unmatchedClinicalRecords: summary.unmatchedClinicalRecords,
  };
}

/**
 * The submission's progress topic, led by one event standing for "now": the live events are
 * subscribed to first, so nothing that happens while the current state is read is lost.
 *
 * An iterator object, not an async generator: graphql-ws ends a subscription whose socket
 * closed by calling return(), and a generator waiting inside `await live.next()` queues that call
 * until an event arrives — for a quiet submission never, so every closed subscriber stayed
 * subscribed (its listener and request context held, and its place in the per-user limit taken:
 * 50 closed connections and the user could subscribe no more). Here return() ends the live
 * topic at once, which settles the pending next() as done.
 */
function currentThenLive(submissionId: string): AsyncIterableIterator<{ submissionId: string }> {
  const live = pubSub.subscribe(Topic.SUBMISSION_PROGRESS, submissionId)[Symbol.asyncIterator]();
  // Asking for the first live event is what starts listening (the iterator is lazy): do it before "now".
  let first: Promise<IteratorResult<{ submissionId: string }>> | null = live.next();
  let current = true;
  let ended = false;
  const end = async (): Promise<IteratorResult<{ submissionId: string }>> => {
    ended = true;
    await live.return?.();
    return { value: undefined, done: true };
  };
  const iterator: AsyncIterableIterator<{ submissionId: string }> = {
    next: async () => {
      if (ended) return { value: undefined, done: true };
      if (current) { current = false; return { value: { submissionId }, done: false }; }
      const pending = first ?? live.next();
      first = null;
      return pending;
    },
    return: end,
    throw: async (err?: unknown) => { await end(); throw err; },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

const SUBMISSION_ARG = { description: 'The submission\'s id (Submission.id).' };

@ArgsType()
class SubmissionFilesArgs extends PageArgs {
  @Field(() => [FileState], { nullable: true, description: 'Only files in one of these states (e.g. [QUARANTINED] for what needs a repair); every file when omitted.' })
  state?: FileState[] | null;
}

@Resolver(() => Submission)
export class SubmissionResolver {
  @Mutation(() => Submission, { description: 'Starts a submission (and its DRAFT collection). Submitters and curators only.' })
  async createSubmission(@Arg('input', () => CreateSubmissionInput, { description: 'The collection\'s metadata and the de-identification options.' }) input: CreateSubmissionInput, @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'data');
    return ingestOf(ctx).submissions.create(ctx.user!, { ...input, collectionAccession: input.collection ?? null });
  }

  @Mutation(() => Int, { description: 'Stages clinical data per local patient; returns how many records were accepted.' })
  async addClinicalData(
    @Arg('submission', () => ID, SUBMISSION_ARG) submission: string,
    @Arg('records', () => [ClinicalRecordInput], { description: 'One record per local patient; a later record for the same patient replaces an earlier one.' }) records: ClinicalRecordInput[],
    @Ctx() ctx: RequestContext,
  ) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'clinical data');
    return ingestOf(ctx).submissions.addClinicalData(ctx.user!, rowId(submission, 'submission'), records);
  }

  @Mutation(() => Int, { description: 'Clinical data as CSV (header: patient_id, sex, age, species, disease, pathological_type, medical_history, family_history, treatment, gsa_human_accession); returns how many records were accepted.' })
  async addClinicalDataCsv(
    @Arg('submission', () => ID, SUBMISSION_ARG) submission: string,
    @Arg('csv', { description: 'The CSV text, UTF-8, one row per local patient.' }) csv: string,
    @Ctx() ctx: RequestContext,
  ) {
    await ctx.session.assertCan(Action.SUBMIT, null, 'clinical data');
    return ingestOf(ctx).submissions.addClinicalCsv(ctx.user!, rowId(submission, 'submission'), csv);
  }

  @Mutation(() => Submission, {
    description: 'Starts the ingest pipeline over every unfinished file and returns the submission as it is now (PROCESSING), without waiting for the run: '
      + 'progress flows over `submissionProgress`, whose first event is the current state, and the run has ended when it reads PROCESSED. '
      + 'Safe to repeat (a run in progress is joined; a finished one resumes what is left).',
  })
  async processSubmission(@Arg('submission', () => ID, SUBMISSION_ARG) submission: string, @Ctx() ctx: RequestContext) {
    const id = rowId(submission, 'submission');
    const ingest = ingestOf(ctx);
    const found = await ingest.submissions.findOrFail(ctx.user, id, ctx.em, Action.PROCESS);
    const { run } = await ingest.pipeline.start(id);
    // The run outlives this request; its failures are the pipeline's to record per file, and logged here.
    run.catch((err) => logger.error({ err, submission: id }, 'ingest run failed'));
    // From the primary: the run has just marked it PROCESSING, which a replica may not show yet.
    return ctx.em.refresh(found, { connectionType: 'write' });
  }

  @Mutation(() => Submission, {
    description: 'The same as processSubmission, under the name of the previous release.',
    deprecationReason: 'Use processSubmission, which now starts the run and returns at once. Removed in the next release.',
  })
  async startProcessing(@Arg('submission', () => ID, SUBMISSION_ARG) submission: string, @Ctx() ctx: RequestContext) {
    return this.processSubmission(submission, ctx);
  }

  @Mutation(() => Int, { description: 'Curators: delete the received bytes of files that reached a final state (the staging area holds identifying data); returns how many were removed.' })
  async discardStagedFiles(@Arg('submission', () => ID, SUBMISSION_ARG) submission: string, @Ctx() ctx: RequestContext) {
    const id = rowId(submission, 'submission');
    await ctx.session.assertCan(Action.DISCARD_STAGED, null, `submission ${id}`);
    return ingestOf(ctx).submissions.discardStaged(ctx.user!, id);
  }

  @Query(() => Submission, { nullable: true, description: 'A submission you submitted (curators: any); null otherwise.' })
  async submission(@Arg('id', () => ID, { description: 'The submission\'s id.' }) id: string, @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.find(ctx.user, rowId(id, 'id'));
  }

  @Subscription(() => SubmissionProgress, {
    description: 'Counts per file state (graphql-ws): first the current state, then again whenever a file of the submission changes state, '
      + 'so a client that subscribes late misses nothing. A run has ended when `state` reads PROCESSED.',
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      const id = rowId(args.submission, 'submission');
      // Refused at once to whoever may not see the submission (FORBIDDEN, or UNAUTHENTICATED; one
      // answer for absent and not permitted): accepted and refused per event, a stranger's
      // subscription was told each time another's submission changed (when and how much it
      // processes), and held one of the caller's live-operation places. The per-event check stays:
      // access can change while subscribed.
      await ingestOf(ctx).submissions.findOrFail(ctx.user, id, ctx.em.fork(), Action.VIEW_SUBMISSION);
      return currentThenLive(String(id));
    },
  })
  async submissionProgress(@Arg('submission', () => ID, SUBMISSION_ARG) submission: string, @Ctx() ctx: RequestContext) {
    // Payloads carry only the id: counts are re-read for, and only shown to, a subscriber who may see them.
    const found = await ingestOf(ctx).submissions.findOrFail(ctx.user, rowId(submission, 'submission'), ctx.em.fork(), Action.VIEW_SUBMISSION);
    return progressOf(ingestOf(ctx), found);
  }

  @FieldResolver(() => String, { description: 'Where to PUT or POST DICOM files or a zip of them, with your bearer token (path on this server).' })
  uploadUrl(@Root() submission: Submission) {
    return `/submissions/${submission.id}/files`;
  }

  @FieldResolver(() => Collection, { description: 'The collection the submission fills.' })
  async collection(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    return ctx.em.findOneOrFail(Collection, { id: submission.collection.id });
  }

  @FieldResolver(() => SubmissionProgress, { description: 'Counts of its files per pipeline state, as now.' })
  async progress(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    return progressOf(ingestOf(ctx), submission);
  }

  @FieldResolver(() => SubmissionFileConnection, { description: 'The files received, in the order they arrived, with their states; `state` filters (e.g. the quarantined ones).' })
  async files(@Root() submission: Submission, @Args() args: SubmissionFilesArgs, @Ctx() ctx: RequestContext) {
    await ctx.session.assertCan(Action.VIEW_SUBMISSION, submission, `submission ${submission.id}`);
    return fromPage(SubmissionFileConnection, await ingestOf(ctx).submissions.filesPage(submission.id, { first: args.first, after: args.after, states: args.state }));
  }

  @FieldResolver(() => [SubmissionFile], {
    description: 'Every file received, with its state, as one list.',
    deprecationReason: 'Use files, a connection with a state filter. Removed in the next release.',
  })
  async fileList(@Root() submission: Submission, @Ctx() ctx: RequestContext) {
    if (!(await ctx.session.can(Action.VIEW_SUBMISSION, submission))) return [];
    return ingestOf(ctx).submissions.files(submission.id);
  }
}
