import { Arg, Ctx, Field, FieldResolver, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { pubSub, Topic } from '../src/events/pubsub.js';
import type { RequestContext } from '../src/context.js';
import { Accessibility, Sex } from '../src/domain.js';
import { Collection, Submission, SubmissionFile } from '../src/entities/index.js';
import { SubmissionState } from '../src/entities/Submission.js';
import { FileState } from '../src/entities/SubmissionFile.js';
import type { Ingest } from '../src/ingest/index.js';
import { isCurator, requireSubmitter } from '../src/ingest/SubmissionService.js';
import { GraphQLError } from 'graphql';

/** `first`, then everything `rest` yields; ending the subscription ends `rest` too (yield* forwards return()). */
async function* startingWith<T>(first: T, rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield first;
  yield* rest;
}

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
  if (!ctx.ingest) throw new GraphQLError('submissions are not enabled on this server', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
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

@Resolver(() => Submission)
export class SubmissionResolver {
  @Mutation(() => Submission, { description: 'Starts a submission (and its DRAFT collection). Submitters and curators only.' })
  async createSubmission(@Arg('input', () => CreateSubmissionInput) input: CreateSubmissionInput, @Ctx() ctx: RequestContext) {
    const user = requireSubmitter(ctx.user);
    return ingestOf(ctx).submissions.create(user, { ...input, collectionAccession: input.collection ?? null });
  }

  @Mutation(() => Int, { description: 'Stages clinical data per local patient; returns how many records were accepted.' })
  async addClinicalData(@Arg('submission', () => Int) submission: number, @Arg('records', () => [ClinicalRecordInput]) records: ClinicalRecordInput[], @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.addClinicalData(requireSubmitter(ctx.user), submission, records);
  }

  @Mutation(() => Int, { description: 'Clinical data as CSV (header: patient_id, sex, age, species, disease, pathological_type, medical_history, family_history, treatment).' })
  async addClinicalDataCsv(@Arg('submission', () => Int) submission: number, @Arg('csv') csv: string, @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.addClinicalCsv(requireSubmitter(ctx.user), submission, csv);
  }

  @Mutation(() => ProcessResult, { description: 'Runs the ingest pipeline over every unfinished file; safe to repeat (it resumes).' })
  async processSubmission(@Arg('id', () => Int) id: number, @Ctx() ctx: RequestContext) {
    const user = requireSubmitter(ctx.user);
    const ingest = ingestOf(ctx);
    await ingest.submissions.findOrFail(user, id);
    return ingest.pipeline.process(id);
  }

  @Mutation(() => Int, { description: 'Curators: delete the received bytes of files that reached a final state (the staging area holds identifying data); returns how many were removed.' })
  async discardStagedFiles(@Arg('submission', () => Int) submission: number, @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.discardStaged(requireSubmitter(ctx.user), submission);
  }

  @Query(() => Submission, { nullable: true, description: 'A submission you submitted (curators: any); null otherwise.' })
  async submission(@Arg('id', () => Int) id: number, @Ctx() ctx: RequestContext) {
    return ingestOf(ctx).submissions.find(ctx.user, id);
  }

  @Subscription(() => SubmissionProgress, {
    description: 'Counts per file state: first the current counts, then whenever a file of the submission changes state (graphql-ws).',
    // The first event is the current state, so a client (or a test) knows it is subscribed and
    // what it missed, without waiting an arbitrary time.
    subscribe: ({ args }) => startingWith({ submissionId: String(args.id) }, pubSub.subscribe(Topic.SUBMISSION_PROGRESS, String(args.id))),
  })
  async submissionProgress(@Arg('id', () => Int) id: number, @Ctx() ctx: RequestContext) {
    // Payloads carry only the id: counts are re-read for, and only shown to, a subscriber who may see them.
    const submission = await ingestOf(ctx).submissions.find(ctx.user, id);
    if (!submission) throw new GraphQLError(`no submission ${id} you may see`, { extensions: { code: ctx.user ? 'FORBIDDEN' : 'UNAUTHENTICATED' } });
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
    if (!ctx.user || (submission.submitter !== ctx.user.id && !isCurator(ctx.user))) return [];
    return ingestOf(ctx).submissions.files(submission.id);
  }
}
