import { DriverException, UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
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
import { codeToHex } from '../retrieval/code.js';
import { decodeImage } from '../retrieval/decode.js';
import type { HashCatalog } from '../similarity/HashCatalog.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { currentCensus } from '../qc/CensusService.js';
import { screenSubmission, stagedReader } from '../qc/screen.js';
import { CpuPool, CpuTaskError, type DeidOutcome } from './cpuTasks.js';
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

/**
 * The ingest pipeline. Each file's row is its checkpoint: RECEIVED → PARSED → DEIDENTIFIED
 * → STORED → INDEXED (or QUARANTINED / DUPLICATE). Every step can be repeated: UID remapping
 * and date offsets are deterministic, blobs are content-addressed, and the Image row is
 * inserted in the same transaction that marks the file STORED, so after a crash a re-run
 * picks up each unfinished file where its row says and no file is counted twice.
 */
export class IngestPipeline {
  /** Emits 'progress' (submissionId) after every file transition, for the subscription. */
  readonly events = new EventEmitter();
  private readonly running = new Map<number, Promise<ProcessSummary>>();
  /** Parsing, de-identification and thumbnails run on worker threads, several files at once. */
  readonly cpu = new CpuPool();
  private readonly concurrency = Math.max(1, Number(process.env.OBIA_INGEST_CONCURRENCY) || this.cpu.size + 1);
  /** Serialises the short database sections that create shared rows (individuals, studies, series). */
  private exclusiveTail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly orm: MikroORM,
    private readonly staging: StagingArea,
    private readonly store: BlobStore,
    private readonly secret: string,
    private readonly log: (message: string) => void = () => {},
    private readonly thumbnails = true,
    /** Hashes stored images for similarImages and keeps the live index current. */
    private readonly catalog: HashCatalog | null = null,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Processes every unfinished file of the submission; a second call while one runs joins it. */
  process(submissionId: number, onFile?: (done: number, total: number) => void): Promise<ProcessSummary> {
    let run = this.running.get(submissionId);
    if (!run) {
      run = this.run(submissionId, onFile).finally(() => this.running.delete(submissionId));
      this.running.set(submissionId, run);
    }
    return run;
  }

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
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

  private async run(submissionId: number, onFile?: (done: number, total: number) => void): Promise<ProcessSummary> {
    const em = this.em();
    const submission = await em.findOneOrFail(Submission, { id: submissionId });
    submission.state = SubmissionState.PROCESSING;
    await em.flush();
    const ctx: RunContext = {
      submissionId, collectionId: submission.collection.id, disease: submission.disease,
      options: submission.deidOptions, individuals: new Map(),
    };
    // --- QC (issue 4): per-file and cross-file checks of the RECEIVED files before anything is
    // de-identified; what it quarantines or sets aside is final and skipped below. Pixel twins are
    // only reported: the ingest fixtures build every CT from one slice (identical pixels).
    await screenSubmission(em, stagedReader((p) => this.staging.absolute(p)), submissionId, { pixelDuplicates: 'report' });
    // --- end QC
    const pending = await em.find(SubmissionFile, { submission: submissionId, state: { $nin: FINAL_STATES } }, { fields: ['id'], orderBy: { id: 'asc' } });
    let done = 0;
    let next = 0;
    // One file per worker in flight plus one, whose fsync-bound I/O (both blob copies, SQL
    // commits) overlaps the others' parsing; more lanes measured no faster on 2 cores.
    const lanes = Array.from({ length: Math.min(pending.length, this.concurrency) }, async () => {
      while (next < pending.length) {
        const { id } = pending[next++]!;
        await this.processFile(id, ctx);
        onFile?.(++done, pending.length);
      }
    });
    await Promise.all(lanes);
    submission.state = SubmissionState.PROCESSED;
    await em.flush();
    // --- QC (issue 4): the tag census takes in the files stored by this run (each read once).
    // A census that cannot be updated must not fail the run; the next query catches up.
    await currentCensus(em, this.store, submissionId).catch((e) => this.log(`qc: census of submission ${submissionId} not updated (${(e as Error)?.name})`));
    // --- end QC
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

  private async processFile(fileId: number, ctx: RunContext): Promise<void> {
    const em = this.em();
    const file = await em.findOneOrFail(SubmissionFile, { id: fileId });
    try {
      let outcome: DeidOutcome | null = null;
      if (file.state !== FileState.STORED) outcome = await this.deidentifyAndStore(em, file, ctx);
      if (file.state === FileState.STORED) await this.index(em, file, outcome);
    } catch (err) {
      if (err instanceof DriverException && !(err instanceof UniqueConstraintViolationException)) throw err;
      const q = err instanceof Quarantine ? err
        : err instanceof DicomParseError ? new Quarantine('PARSE_ERROR', err.reason)
        : err instanceof CpuTaskError && err.kind !== 'internal' ? new Quarantine(err.kind === 'empty' ? 'EMPTY' : 'STAGING_MISSING', err.message)
          // Unexpected errors are quarantined by kind only: their messages may quote file contents.
          : new Quarantine('PROCESSING_ERROR', `processing failed (${(err as Error)?.name ?? 'error'})`);
      if (q.reason === 'PROCESSING_ERROR') this.log(`ingest: file ${fileId} quarantined after ${(err as Error)?.name}`);
      const fresh = this.em();
      await fresh.nativeUpdate(SubmissionFile, { id: fileId }, { state: FileState.QUARANTINED, quarantineReason: q.reason, quarantineMessage: q.message });
    }
    this.progress(ctx.submissionId);
  }

  /** RECEIVED/PARSED/DEIDENTIFIED → STORED (or DUPLICATE); returns the de-identification outcome. */
  private async deidentifyAndStore(em: EntityManager, file: SubmissionFile, ctx: RunContext): Promise<DeidOutcome | null> {
    const staged = this.staging.absolute(file.stagingPath);
    const identity = await this.cpu.identify(staged);
    if (!identity.sopInstanceUid) throw new Quarantine('MISSING_SOP_INSTANCE_UID', 'the file has no SOPInstanceUID');
    if (!identity.patientId) throw new Quarantine('MISSING_PATIENT_ID', 'the file has no PatientID, so it cannot be assigned to an individual');
    if (!identity.studyInstanceUid || !identity.seriesInstanceUid) throw new Quarantine('MISSING_UID', 'the file lacks a StudyInstanceUID or SeriesInstanceUID');
    const patientKey = localPatientKey(identity.patientId, this.secret);
    const imageUid = remapUid(identity.sopInstanceUid, this.secret);
    if (file.state === FileState.RECEIVED) {
      Object.assign(file, { state: FileState.PARSED, patientKey, imageUid });
      await em.flush();
      this.progress(ctx.submissionId);
    }

    // The de-identified SOPInstanceUID is the image's identity: if the archive holds it and
    // not through this file (Image rows are only written with the file's STORED mark), it is a duplicate.
    if (await this.markIfDuplicate(em, file, imageUid)) return null;

    const individual = await this.exclusive(() => this.mapPatient(patientKey, ctx));
    const outcome = await this.cpu.deidentify(staged, {
      secret: this.secret, individualAccession: individual.accession,
      dateOffsetDays: dateOffsetDays(individual.accession, this.secret), options: ctx.options,
    }, this.thumbnails);
    const sha = await this.store.put(outcome.output);
    Object.assign(file, { state: FileState.DEIDENTIFIED, storedSha256: sha, heldForPixelReview: outcome.heldForPixelReview });
    await em.flush();
    this.progress(ctx.submissionId);

    const stored = await this.exclusive(async () => {
      // Checked again under the lock: another file of this run may have stored the same instance meanwhile.
      if (await this.markIfDuplicate(em, file, imageUid)) return false;
      await this.storeMetadata(em, file, individual.id, ctx, outcome, sha);
      return true;
    });
    return stored ? outcome : null;
  }

  private async markIfDuplicate(em: EntityManager, file: SubmissionFile, imageUid: string): Promise<boolean> {
    if (!(await this.em().count(Image, { uid: imageUid }))) return false;
    file.state = FileState.DUPLICATE;
    await em.flush();
    return true;
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

  /** Study, Series and Image rows and the file's STORED mark, in one transaction. */
  private async storeMetadata(em: EntityManager, file: SubmissionFile, individualId: number, ctx: RunContext, outcome: DeidOutcome, sha: string): Promise<void> {
    const ds = outcome.fields as unknown as Record<string, unknown>;
    const studyUid = str(ds.StudyInstanceUID);
    const seriesUid = str(ds.SeriesInstanceUID);
    const sopUid = str(ds.SOPInstanceUID);
    if (!studyUid || !seriesUid || !sopUid) throw new Quarantine('MISSING_UID', 'the de-identified file lacks a Study, Series or SOP Instance UID');
    const modality = (str(ds.Modality) ?? 'OT').slice(0, 16);
    const transferSyntaxUid = outcome.transferSyntaxUid ?? '1.2.840.10008.1.2.1';
    await em.transactional(async (tx) => {
      let study = await tx.findOne(Study, { studyInstanceUid: studyUid });
      if (study && study.individual.id !== individualId) {
        throw new Quarantine('MIXED_PATIENTS', 'the study already belongs to another individual: images of another patient are mixed into it');
      }
      if (!study) {
        study = tx.create(Study, {
          accession: await allocateAccession(tx, 'study'), studyInstanceUid: studyUid,
          individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, ctx.collectionId),
          description: str(ds.StudyDescription)?.slice(0, 500) ?? null, studyDate: isoDate(ds.StudyDate),
          ageAtStudy: ageYears(ds.PatientAge), modalities: [modality],
        });
      } else if (!study.modalities.includes(modality)) {
        study.modalities = [...study.modalities, modality];
      }
      let series = await tx.findOne(Series, { uid: seriesUid });
      if (series && series.individual.id !== individualId) {
        throw new Quarantine('MIXED_PATIENTS', 'the series already belongs to another individual: images of another patient are mixed into it');
      }
      const site = str(ds.BodyPartExamined)?.toUpperCase().replace(/\s+/g, '') ?? null;
      if (!series) {
        series = tx.create(Series, {
          uid: seriesUid, study, individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, ctx.collectionId),
          modality, anatomicalSite: site && (SITES.has(site) || site.length <= 32) ? site : null,
          description: str(ds.SeriesDescription)?.slice(0, 500) ?? null, seriesNumber: int(ds.SeriesNumber), imageCount: 1,
        });
      } else {
        series.imageCount += 1;
      }
      tx.create(Image, {
        uid: sopUid, series, sopClassUid: str(ds.SOPClassUID), instanceNumber: int(ds.InstanceNumber),
        rows: int(ds.Rows), columns: int(ds.Columns), frames: int(ds.NumberOfFrames) ?? 1, bitsAllocated: int(ds.BitsAllocated),
        transferSyntaxUid, sha256: sha, size: outcome.output.length,
      });
      await tx.flush();
      await tx.nativeUpdate(SubmissionFile, { id: file.id }, { state: FileState.STORED, imageUid: sopUid });
    });
    file.state = FileState.STORED;
    this.progress(ctx.submissionId);
  }

  /**
   * STORED → INDEXED: a thumbnail in the blob store and the image's 64-bit hash code (on Image,
   * and in the live Hamming index). Neither failing quarantines the image: it is archived, only
   * not yet findable by similarity.
   */
  private async index(em: EntityManager, file: SubmissionFile, outcome: DeidOutcome | null): Promise<void> {
    if (this.thumbnails && file.storedSha256) {
      try {
        // Rendered by the worker with the de-identification; on a resumed run, here from the stored file.
        const png = outcome ? outcome.thumbnail : await renderThumbnail(await this.store.get(file.storedSha256), { maxSize: 128 });
        if (png) file.thumbnailSha256 = await this.store.put(png);
        else this.log(`ingest: no thumbnail for file ${file.id} (${outcome?.thumbnailError ?? 'unknown'})`);
      } catch (err) {
        this.log(`ingest: no thumbnail for file ${file.id} (${(err as Error)?.name})`);
      }
    }
    const hashed = this.catalog && file.storedSha256 && file.imageUid ? await this.hashCode(em, file) : null;
    file.state = FileState.INDEXED;
    await em.flush();
    if (hashed) this.catalog!.add(hashed.image.id, hashed.image.series.id, hashed.code);
  }

  private async hashCode(em: EntityManager, file: SubmissionFile): Promise<{ image: Image; code: bigint } | null> {
    try {
      const image = await em.findOneOrFail(Image, { uid: file.imageUid! });
      const model = await this.catalog!.hashModel();
      const code = await model.hashImage(await decodeImage(await this.store.get(file.storedSha256!)));
      image.hashCode = codeToHex(code);
      return { image, code };
    } catch (err) {
      this.log(`ingest: no hash code for file ${file.id} (${(err as Error)?.name}: ${(err as Error)?.message?.slice(0, 120)})`);
      return null;
    }
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
