import { DriverException, Reference, UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { EventEmitter } from 'node:events';
import { allocateAccession } from '../accessions.js';
import { dateOffsetDays, DicomParseError, localPatientKey, remapUid, type DeidOptions } from '../deid/index.js';
import { ANATOMICAL_SITES, Sex } from '../domain.js';
import { ClinicalRecord, Collection, Image, Individual, PatientMapping, Series, Study, Submission, SubmissionFile } from '../entities/index.js';
import { SubmissionState } from '../entities/Submission.js';
import { FileState } from '../entities/SubmissionFile.js';
import { pubSub, Topic } from '../events/pubsub.js';
import { renderThumbnail } from '../imaging/index.js';
import { codeToHex, hexToCode } from '../retrieval/code.js';
import { decodeImage } from '../retrieval/decode.js';
import type { HashCatalog } from '../similarity/HashCatalog.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { currentCensus, type RunCensus } from '../qc/CensusService.js';
import type { FileFacts } from '../qc/facts.js';
import { screenSubmission } from '../qc/screen.js';
import { TagCensus } from '../qc/TagCensus.js';
import { CpuPool, CpuTaskError, type DeidOutcome, type MetadataFields, type WorkerStorage } from './cpuTasks.js';
import type { StagingArea } from './staging.js';
import { applyClinical } from './SubmissionService.js';

export const FINAL_STATES = [FileState.INDEXED, FileState.QUARANTINED, FileState.DUPLICATE];

export interface ProcessSummary {
  submissionId: number;
  ingested: number;
  quarantined: number;
  duplicates: number;
  /** Files in a non-final state (only when a run was stopped). */
  pending: number;
  /** Clinical records whose patient no file of the submission had. */
  unmatchedClinicalRecords: number;
}

/** Thrown for a file that goes to quarantine: `reason` is a code, `message` says what, never attribute values. */
class Quarantine extends Error {
  constructor(readonly reason: string, message: string) { super(message); }
}

interface RunContext {
  submissionId: number;
  collectionId: number;
  disease: string;
  options: DeidOptions;
  /** patientKey → individual, so one run maps each patient once. */
  individuals: Map<string, { id: number; accession: string }>;
}

const SITES = new Set<string>(ANATOMICAL_SITES);

/** One file on its way through a batch. */
interface Work {
  file: SubmissionFile;
  individual?: { id: number; accession: string };
  outcome?: DeidOutcome;
  code?: bigint | null;
  /** The Image row stored for it. */
  image?: { id: number; seriesId: number };
}

/** Files per batch, and the bytes a batch may hold (its de-identified outputs stay in memory until stored). */
const BATCH_FILES = Math.max(1, Number(process.env.OBIA_INGEST_BATCH) || 32);
const BATCH_BYTES = 64 * 1024 * 1024;

/**
 * The ingest pipeline. Each file's row is its checkpoint: RECEIVED → PARSED → DEIDENTIFIED
 * → STORED → INDEXED (or QUARANTINED / DUPLICATE). Every step can be repeated: UID remapping
 * and date offsets are deterministic, blobs are content-addressed, and the Image row is
 * inserted in the same transaction that marks the file STORED, so after a crash a re-run
 * picks up each unfinished file where its row says and no file is counted twice.
 *
 * Files go through in batches: the CPU work (screening, de-identification, thumbnail, census,
 * hash input) runs per file on the worker pool, while each database step is one transaction
 * for the whole batch, and the hash codes one onnxruntime call. Two batches are in flight, so
 * one's database work overlaps the other's worker time.
 */
export class IngestPipeline {
  /** Emits 'progress' (submissionId) after every batch step, for the subscription. */
  readonly events = new EventEmitter();
  private readonly running = new Map<number, Promise<ProcessSummary>>();
  /** Per running submission: settles once the run has marked the submission PROCESSING. */
  private readonly started = new Map<number, Promise<unknown>>();
  /** Screening, parsing, de-identification and thumbnails run on worker threads, several files at once. */
  readonly cpu = new CpuPool();
  private readonly lanes = Math.max(1, Number(process.env.OBIA_INGEST_CONCURRENCY) || 2);
  /** Serialises the short database sections that create shared rows (individuals, studies, series). */
  private exclusiveTail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly orm: MikroORM,
    private readonly staging: StagingArea,
    private readonly store: BlobStore,
    private readonly secret: string,
    private readonly log: (message: string) => void = () => {},
    /** The thumbnail cache, or null to make no thumbnails. */
    private readonly thumbnails: BlobStore | null = null,
    /** Hashes stored images for similarImages and keeps the live index current. */
    private readonly catalog: HashCatalog | null = null,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Processes every unfinished file of the submission; a second call while one runs joins it. */
  process(submissionId: number, onFile?: (done: number, total: number) => void): Promise<ProcessSummary> {
    let run = this.running.get(submissionId);
    if (!run) {
      let marked!: () => void;
      const started = new Promise<void>((resolve) => { marked = resolve; });
      run = this.run(submissionId, onFile, marked).finally(() => { this.running.delete(submissionId); this.started.delete(submissionId); });
      this.running.set(submissionId, run);
      // A run that fails before marking the submission settles `started` too; its failure is the run's to report.
      this.started.set(submissionId, Promise.race([started, run]).catch(() => undefined));
    }
    return run;
  }

  /**
   * Starts a run (or joins the one in progress) without waiting for it: resolves once the
   * submission reads PROCESSING, so whoever asked can answer with its current state and follow
   * the rest on submissionProgress. `run` is the run itself, for whoever must log its failure.
   */
  async start(submissionId: number): Promise<{ run: Promise<ProcessSummary> }> {
    const run = this.process(submissionId);
    await this.started.get(submissionId);
    return { run };
  }

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  /** The stores as the workers open them: they write what they de-identify. */
  private get storage(): WorkerStorage {
    const thumbnails = this.thumbnails ?? this.store;
    return { blobs: this.store.roots, thumbnails: thumbnails.roots };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.exclusiveTail.then(fn);
    this.exclusiveTail = result.catch(() => undefined);
    return result;
  }

  /** Tells in-process listeners and graphql-ws subscribers (submissionProgress) that counts changed. */
  private progress(submissionId: number): void {
    this.events.emit('progress', submissionId);
    pubSub.publish(Topic.SUBMISSION_PROGRESS, String(submissionId), { submissionId: String(submissionId) });
  }

  private async run(submissionId: number, onFile?: (done: number, total: number) => void, onStarted?: () => void): Promise<ProcessSummary> {
    const em = this.em();
    const submission = await em.findOneOrFail(Submission, { id: submissionId });
    submission.state = SubmissionState.PROCESSING;
    await em.flush();
    onStarted?.();
    // Subscribers learn of the new run before screening's first step ends.
    this.progress(submissionId);
    const ctx: RunContext = {
      submissionId, collectionId: submission.collection.id, disease: submission.disease,
      options: submission.deidOptions, individuals: new Map(),
    };
    // QC (issue 4): per-file and cross-file checks of the RECEIVED files before anything is
    // de-identified; what it quarantines or sets aside (UID and pixel twins) is final and
    // skipped below. What it read of the others maps them without a second parse.
    const screened = await screenSubmission(em, (p) => this.cpu.check(this.staging.absolute(p)), submissionId);
    await this.markParsed(submissionId, screened.passed);
    this.progress(submissionId);

    const pending = await em.find(SubmissionFile, { submission: submissionId, state: { $nin: FINAL_STATES } }, { fields: ['id', 'size'], orderBy: { id: 'asc' } });
    const batches: number[][] = [];
    let bytes = 0;
    for (const f of pending) {
      const last = batches.at(-1);
      if (!last || last.length >= BATCH_FILES || bytes + Number(f.size ?? 0) > BATCH_BYTES) { batches.push([f.id]); bytes = 0; } else last.push(f.id);
      bytes += Number(f.size ?? 0);
    }
    const census: RunCensus = { census: new TagCensus({ options: ctx.options }), files: new Set() };
    let done = 0;
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(batches.length, this.lanes) }, async () => {
      while (next < batches.length) {
        const ids = batches[next++]!;
        await this.processBatch(ids, ctx, census);
        done += ids.length;
        onFile?.(done, pending.length);
      }
    }));
    // QC (issue 4): the tag census takes in the files stored by this run, from the workers'
    // per-file census (a file stored by an earlier run is read once from the store). A census
    // that cannot be updated must not fail the run; the next query catches up.
    await currentCensus(em, this.store, submissionId, census).catch((e) => this.log(`qc: census of submission ${submissionId} not updated (${(e as Error)?.name})`));
    // PROCESSED is written last: a client following submissionProgress takes it as "the run is over".
    submission.state = SubmissionState.PROCESSED;
    await em.flush();
    this.progress(submissionId);
    return this.summary(submissionId);
  }

  async summary(submissionId: number): Promise<ProcessSummary> {
    const em = this.em();
    const rows: { state: FileState; n: number }[] = await em.getKnex()('submission_file')
      .where({ submission_id: submissionId }).groupBy('state').select('state').count({ n: '*' });
    const n = (s: FileState) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    const unmatched = await em.count(ClinicalRecord, { submission: submissionId, applied: false });
    return {
      submissionId,
      ingested: n(FileState.INDEXED) + n(FileState.STORED),
      quarantined: n(FileState.QUARANTINED),
      duplicates: n(FileState.DUPLICATE),
      pending: rows.filter((r) => !FINAL_STATES.includes(r.state)).reduce((s, r) => s + Number(r.n), 0),
      unmatchedClinicalRecords: unmatched,
    };
  }

  /** RECEIVED → PARSED for the files screening read, a transaction per thousand (bounded IN lists). */
  private async markParsed(submissionId: number, passed: Map<number, FileFacts>): Promise<void> {
    const ids = [...passed.keys()];
    for (let at = 0; at < ids.length; at += 1000) {
      const em = this.em();
      const files = await em.find(SubmissionFile, { submission: submissionId, state: FileState.RECEIVED, id: { $in: ids.slice(at, at + 1000) } });
      for (const file of files) {
        const facts = passed.get(file.id)!;
        Object.assign(file, { state: FileState.PARSED, patientKey: localPatientKey(facts.patientId!, this.secret), imageUid: remapUid(facts.sopInstanceUid!, this.secret) });
      }
      await em.flush();
    }
  }

  /** Turns a failure into the file's quarantine; database failures other than a lost race end the run. */
  private quarantineFor(fileId: number, err: unknown): Quarantine {
    if (err instanceof DriverException && !(err instanceof UniqueConstraintViolationException)) throw err;
    const q = err instanceof Quarantine ? err
      : err instanceof DicomParseError ? new Quarantine('PARSE_ERROR', err.reason)
      : err instanceof CpuTaskError && err.kind !== 'internal' ? new Quarantine(err.kind === 'empty' ? 'EMPTY' : 'STAGING_MISSING', err.message)
        // Unexpected errors are quarantined by kind only: their messages may quote file contents.
        : new Quarantine('PROCESSING_ERROR', `processing failed (${(err as Error)?.name ?? 'error'})`);
    if (q.reason === 'PROCESSING_ERROR') this.log(`ingest: file ${fileId} quarantined after ${(err as Error)?.name}`);
    return q;
  }

  private async processBatch(ids: number[], ctx: RunContext, census: RunCensus): Promise<void> {
    const em = this.em();
    const files = await em.find(SubmissionFile, { id: { $in: ids } }, { orderBy: { id: 'asc' } });
    const failed = new Map<number, Quarantine>();
    const fail = (file: SubmissionFile, err: unknown) => failed.set(file.id, this.quarantineFor(file.id, err));
    const live = (works: Work[]) => works.filter((w) => !failed.has(w.file.id) && !FINAL_STATES.includes(w.file.state));

    // Files screening could not read (their staged bytes are gone) go through the worker alone, which names the reason.
    await Promise.all(files.filter((f) => f.state === FileState.RECEIVED).map((f) => this.identify(f).catch((e) => fail(f, e))));
    const works = files.map((file): Work => ({ file }));

    // A run stopped after STORED only has indexing left.
    const resumed = live(works).filter((w) => w.file.state === FileState.STORED);
    for (const w of resumed) await this.indexStored(em, w.file);

    let todo = live(works).filter((w) => w.file.state !== FileState.STORED);
    await this.markDuplicates(em, todo);
    todo = live(todo);
    for (const w of todo) {
      try { w.individual = await this.exclusive(() => this.mapPatient(w.file.patientKey!, ctx)); } catch (e) { fail(w.file, e); }
    }
    await em.flush();
    this.progress(ctx.submissionId);
    await Promise.all(live(todo).map(async (w) => {
      try {
        const individual = w.individual!;
        w.outcome = await this.cpu.deidentify(this.staging.absolute(w.file.stagingPath), {
          secret: this.secret, individualAccession: individual.accession,
          dateOffsetDays: dateOffsetDays(individual.accession, this.secret), options: ctx.options,
        }, { thumbnail: !!this.thumbnails, hashInput: !!this.catalog, storage: this.storage });
        const o = w.outcome;
        // Thumbnails are derived: one that cannot be rendered leaves the image archived without it.
        if (this.thumbnails && !o.thumbnailSha256) this.log(`ingest: no thumbnail for file ${w.file.id} (${o.thumbnailError ?? 'unknown'})`);
        Object.assign(w.file, { state: FileState.DEIDENTIFIED, storedSha256: o.sha256, heldForPixelReview: o.heldForPixelReview, thumbnailSha256: o.thumbnailSha256 });
      } catch (e) {
        fail(w.file, e);
      }
    }));
    await em.flush();
    this.progress(ctx.submissionId);

    const stored = live(todo).filter((w) => w.file.state === FileState.DEIDENTIFIED);
    await this.hashCodes(stored);
    await this.exclusive(() => this.storeMetadata(stored, ctx, failed));
    await this.markIndexed(stored.filter((w) => w.image && !failed.has(w.file.id)));
    for (const w of stored) {
      if (!w.image || failed.has(w.file.id)) continue;
      census.census.merge(TagCensus.fromJSON(w.outcome!.census));
      census.files.add(w.file.id);
    }

    for (const [fileId, q] of failed) {
      await this.em().nativeUpdate(SubmissionFile, { id: fileId }, { state: FileState.QUARANTINED, quarantineReason: q.reason, quarantineMessage: q.message });
    }
    this.progress(ctx.submissionId);
  }

  /** RECEIVED → PARSED for a file screening did not read: the worker reads what maps it. */
  private async identify(file: SubmissionFile): Promise<void> {
    const identity = await this.cpu.identify(this.staging.absolute(file.stagingPath));
    if (!identity.sopInstanceUid) throw new Quarantine('MISSING_SOP_INSTANCE_UID', 'the file has no SOPInstanceUID');
    if (!identity.patientId) throw new Quarantine('MISSING_PATIENT_ID', 'the file has no PatientID, so it cannot be assigned to an individual');
    if (!identity.studyInstanceUid || !identity.seriesInstanceUid) throw new Quarantine('MISSING_UID', 'the file lacks a StudyInstanceUID or SeriesInstanceUID');
    Object.assign(file, { state: FileState.PARSED, patientKey: localPatientKey(identity.patientId, this.secret), imageUid: remapUid(identity.sopInstanceUid, this.secret) });
  }

  /**
   * The de-identified SOPInstanceUID is the image's identity: if the archive holds it and not
   * through this file (Image rows are only written with the file's STORED mark), the file is a
   * duplicate; so is a second file of the batch with the same identity.
   */
  private async markDuplicates(em: EntityManager, works: Work[]): Promise<void> {
    if (works.length === 0) return;
    const held = new Set((await em.find(Image, { uid: { $in: works.map((w) => w.file.imageUid!) } }, { fields: ['uid'] })).map((i) => i.uid));
    for (const w of works) {
      if (held.has(w.file.imageUid!)) w.file.state = FileState.DUPLICATE;
      held.add(w.file.imageUid!);
    }
  }

  /** Finds the individual for a local patient (by HMAC) in the collection, or creates it with a fresh accession. */
  private async mapPatient(patientKey: string, ctx: RunContext): Promise<{ id: number; accession: string }> {
    const cached = ctx.individuals.get(patientKey);
    if (cached) return cached;
    const em = this.em();
    const record = await em.findOne(ClinicalRecord, { submission: ctx.submissionId, patientKey });
    let mapping: PatientMapping | null = await em.findOne(PatientMapping, { collection: ctx.collectionId, patientKey }, { populate: ['individual'] });
    if (!mapping) {
      const individual = em.create(Individual, {
        accession: await allocateAccession(em, 'individual'),
        collection: em.getReference(Collection, ctx.collectionId),
        sex: Sex.UNKNOWN, species: 'Homo sapiens', disease: ctx.disease,
      });
      mapping = em.create(PatientMapping, { collection: em.getReference(Collection, ctx.collectionId), patientKey, individual, createdAt: new Date() });
      if (record) applyClinical(em, record, individual);
      try {
        await em.flush();
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        // Another process mapped the patient first; the accession we drew stays unused (never reused).
        mapping = await this.em().findOneOrFail(PatientMapping, { collection: ctx.collectionId, patientKey }, { populate: ['individual'] });
      }
    } else if (record && !record.applied) {
      applyClinical(em, record, mapping.individual.getEntity());
      await em.flush();
    }
    const individual = mapping!.individual.getEntity();
    const found = { id: individual.id, accession: individual.accession };
    ctx.individuals.set(patientKey, found);
    return found;
  }

  /** The retrieval model's codes for the batch, in one onnxruntime call; an image without one is archived all the same. */
  private async hashCodes(works: Work[]): Promise<void> {
    if (!this.catalog) return;
    const inputs = works.filter((w) => w.outcome!.hashInput);
    for (const w of works) if (!w.outcome!.hashInput) this.log(`ingest: no hash code for file ${w.file.id} (${w.outcome!.hashError ?? 'no input'})`);
    if (inputs.length === 0) return;
    try {
      const model = await this.catalog.hashModel();
      const codes = await model.hashInputs(inputs.map((w) => w.outcome!.hashInput!));
      inputs.forEach((w, i) => { w.code = codes[i]; });
    } catch (err) {
      this.log(`ingest: no hash codes for ${inputs.length} files (${(err as Error)?.name}: ${(err as Error)?.message?.slice(0, 120)})`);
    }
  }

  /**
   * Study, Series and Image rows and the files' STORED marks, in one transaction. A batch that
   * fails as a whole (another process created the same study at the same moment) is retried
   * file by file, so one file's conflict quarantines that file only.
   */
  private async storeMetadata(works: Work[], ctx: RunContext, failed: Map<number, Quarantine>): Promise<void> {
    if (works.length === 0) return;
    try {
      await this.storeMetadataOnce(works, ctx, failed);
    } catch (err) {
      if (works.length === 1) { failed.set(works[0].file.id, this.quarantineFor(works[0].file.id, err)); return; }
      for (const w of works) { w.image = undefined; await this.storeMetadata([w], ctx, failed); }
    }
  }

  private async storeMetadataOnce(works: Work[], ctx: RunContext, failed: Map<number, Quarantine>): Promise<void> {
    const quarantined = new Map<number, Quarantine>();
    await this.em().transactional(async (tx) => {
      quarantined.clear();
      const uids = (key: keyof MetadataFields) => [...new Set(works.map((w) => str(w.outcome!.fields[key])).filter((u): u is string => !!u))];
      const studies = new Map((await tx.find(Study, { studyInstanceUid: { $in: uids('StudyInstanceUID') } })).map((s) => [s.studyInstanceUid, s]));
      const seriesByUid = new Map((await tx.find(Series, { uid: { $in: uids('SeriesInstanceUID') } })).map((s) => [s.uid, s]));
      // Checked again under the lock: another batch may have stored the same instance meanwhile.
      const held = new Set((await tx.find(Image, { uid: { $in: uids('SOPInstanceUID') } }, { fields: ['uid'] })).map((i) => i.uid));
      const storedIds: number[] = [];
      const duplicateIds: number[] = [];
      const images: { work: Work; image: Image }[] = [];
      for (const w of works) {
        const ds = w.outcome!.fields as unknown as Record<string, unknown>;
        const individualId = w.individual!.id;
        const studyUid = str(ds.StudyInstanceUID);
        const seriesUid = str(ds.SeriesInstanceUID);
        const sopUid = str(ds.SOPInstanceUID);
        if (!studyUid || !seriesUid || !sopUid) {
          quarantined.set(w.file.id, new Quarantine('MISSING_UID', 'the de-identified file lacks a Study, Series or SOP Instance UID'));
          continue;
        }
        if (held.has(sopUid)) { duplicateIds.push(w.file.id); continue; }
        const modality = (str(ds.Modality) ?? 'OT').slice(0, 16);
        let study = studies.get(studyUid);
        if (study && study.individual.id !== individualId) {
          quarantined.set(w.file.id, new Quarantine('MIXED_PATIENTS', 'the study already belongs to another individual: images of another patient are mixed into it'));
          continue;
        }
        let series = seriesByUid.get(seriesUid);
        if (series && series.individual.id !== individualId) {
          quarantined.set(w.file.id, new Quarantine('MIXED_PATIENTS', 'the series already belongs to another individual: images of another patient are mixed into it'));
          continue;
        }
        if (!study) {
          study = tx.create(Study, {
            accession: await allocateAccession(tx, 'study'), studyInstanceUid: studyUid,
            individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, ctx.collectionId),
            description: str(ds.StudyDescription)?.slice(0, 500) ?? null, studyDate: isoDate(ds.StudyDate),
            ageAtStudy: ageYears(ds.PatientAge), modalities: [modality],
          });
          studies.set(studyUid, study);
        } else if (!study.modalities.includes(modality)) {
          study.modalities = [...study.modalities, modality];
        }
        if (!series) {
          const site = str(ds.BodyPartExamined)?.toUpperCase().replace(/\s+/g, '') ?? null;
          series = tx.create(Series, {
            uid: seriesUid, study, individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, ctx.collectionId),
            modality, anatomicalSite: site && (SITES.has(site) || site.length <= 32) ? site : null,
            description: str(ds.SeriesDescription)?.slice(0, 500) ?? null, seriesNumber: int(ds.SeriesNumber), imageCount: 0,
          });
          seriesByUid.set(seriesUid, series);
        }
        series.imageCount += 1;
        images.push({
          work: w,
          image: Object.assign(new Image(), {
            uid: sopUid, series: Reference.create(series), sopClassUid: str(ds.SOPClassUID), instanceNumber: int(ds.InstanceNumber),
            rows: int(ds.Rows), columns: int(ds.Columns), frames: int(ds.NumberOfFrames) ?? 1, bitsAllocated: int(ds.BitsAllocated),
            transferSyntaxUid: w.outcome!.transferSyntaxUid ?? '1.2.840.10008.1.2.1', sha256: w.outcome!.sha256, size: w.outcome!.size,
            hashCode: w.code != null ? codeToHex(w.code) : null,
          }),
        });
        held.add(sopUid);
        storedIds.push(w.file.id);
      }
      // New studies and series (and the counts) first; then the images in one insert outside the
      // unit of work: nothing reads them back in this run, and tracking them cost more than the insert.
      await tx.flush();
      await tx.insertMany(images.map(({ image }) => image));
      for (const { work, image } of images) work.image = { id: image.id, seriesId: image.series.id };
      if (storedIds.length) await tx.nativeUpdate(SubmissionFile, { id: { $in: storedIds } }, { state: FileState.STORED });
      if (duplicateIds.length) await tx.nativeUpdate(SubmissionFile, { id: { $in: duplicateIds } }, { state: FileState.DUPLICATE });
    });
    for (const [id, q] of quarantined) failed.set(id, q);
    for (const w of works) if (w.image) w.file.state = FileState.STORED;
  }

  /** STORED → INDEXED: the codes stored with the images join the live Hamming index. */
  private async markIndexed(works: Work[]): Promise<void> {
    if (works.length === 0) return;
    await this.em().nativeUpdate(SubmissionFile, { id: { $in: works.map((w) => w.file.id) } }, { state: FileState.INDEXED });
    for (const w of works) {
      w.file.state = FileState.INDEXED;
      if (this.catalog && w.code != null) this.catalog.add(w.image!.id, w.image!.seriesId, w.code);
    }
  }

  /**
   * STORED → INDEXED for a file whose run stopped in between: whatever of the thumbnail and the
   * hash code is missing is made from the stored file. Neither failing quarantines the image:
   * it is archived, only not yet findable by similarity.
   */
  private async indexStored(em: EntityManager, file: SubmissionFile): Promise<void> {
    const image = await em.findOne(Image, { uid: file.imageUid! });
    if (this.thumbnails && file.storedSha256 && !file.thumbnailSha256) {
      try {
        file.thumbnailSha256 = await this.thumbnails.put(await renderThumbnail(await this.store.get(file.storedSha256), { maxSize: 128 }));
      } catch (err) {
        this.log(`ingest: no thumbnail for file ${file.id} (${(err as Error)?.name})`);
      }
    }
    let code: bigint | null = image?.hashCode ? hexToCode(image.hashCode) : null;
    if (this.catalog && image && code === null && file.storedSha256) {
      try {
        const model = await this.catalog.hashModel();
        code = await model.hashImage(await decodeImage(await this.store.get(file.storedSha256)));
        image.hashCode = codeToHex(code);
      } catch (err) {
        this.log(`ingest: no hash code for file ${file.id} (${(err as Error)?.name}: ${(err as Error)?.message?.slice(0, 120)})`);
      }
    }
    file.state = FileState.INDEXED;
    await em.flush();
    if (this.catalog && image && code !== null) this.catalog.add(image.id, image.series.id, code);
  }
}

function str(v: unknown): string | null {
  if (Array.isArray(v)) v = v[0];
  if (v && typeof v === 'object' && 'Alphabetic' in (v as any)) v = (v as any).Alphabetic;
  if (v === undefined || v === null) return null;
  const s = String(v).replace(/[\0 ]+$/, '').trim();
  return s === '' ? null : s;
}

function int(v: unknown): number | null {
  const s = str(v);
  if (s === null) return null;
  const n = Number.parseInt(s, 10);
  return Number.isFinite(n) && Math.abs(n) < 2 ** 31 ? n : null;
}

function isoDate(v: unknown): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(str(v) ?? '');
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** PatientAge (AS) such as 045Y, 006M → whole years. */
function ageYears(v: unknown): number | null {
  const m = /^(\d{3})([DWMY])$/.exec(str(v) ?? '');
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'Y' ? n : m[2] === 'M' ? Math.floor(n / 12) : 0;
}
