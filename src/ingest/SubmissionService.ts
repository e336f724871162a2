import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
import type { Readable } from 'node:stream';
import { allocateAccession, assertAccession } from '../accessions.js';
import { hasRole, Role, type Principal } from '../auth/Principal.js';
import { Action, assertCanWork, canWork, refusal } from '../access/policy.js';
import { OBIA_DEFAULT_OPTIONS, localPatientKey, type DeidOptions } from '../deid/index.js';
import { Accessibility, ReleaseState, Sex } from '../domain.js';
import { ClinicalRecord, Collection, Individual, PatientMapping, Submission, SubmissionFile } from '../entities/index.js';
import { FileState } from '../entities/SubmissionFile.js';
import { SubmissionState } from '../entities/Submission.js';
import { insertRows } from './batchWrites.js';
import { ClinicalDataError, parseClinicalCsv, TooManyRecordsError, parseGsaHumanAccession, type ClinicalInput } from './clinicalCsv.js';
import { identifierIn } from './clinicalText.js';
import type { StagingArea, StagingOwner } from './staging.js';
import { decodeCursor, pageSize, toPage, type Page, type PageArgs } from '../browse/pagination.js';
import { boundedText, TEXT_LIMITS } from '../freeText.js';
import { QuotaExceededError } from '../errors.js';
import { assertFits, ValueTooLongError } from '../db/columnBounds.js';
import { lockEntityRow, lockUserRow, transactionKnex } from '../db/transitions.js';

/** NGDC BioProject (PRJCA) and the INSDC ones (NCBI PRJNA, ENA PRJEB, DDBJ PRJDB). */
export const BIOPROJECT_PATTERN = /^PRJ(CA|NA|EB|DB)\d{1,9}$/;

/** A new submission's checked fields. */
interface NewSubmission { title: string; disease: string; keywords: string[]; bioProject: string | null; options: DeidOptions }

export interface CreateSubmissionInput {
  title: string;
  description?: string | null;
  keywords?: string[] | null;
  disease: string;
  accessibility?: Accessibility | null;
  bioProjectAccession?: string | null;
  deidOptions?: Partial<DeidOptions> | null;
  /** An existing collection to add to (curators, or its own submitter); otherwise a new DRAFT one. */
  collectionAccession?: string | null;
}

function badInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) } });
}

/**
 * A submission is read from the primary even by a request whose reads go to a replica: its
 * submitter creates it, uploads and processes it within seconds, and must see every step (a
 * replica's lag would answer "no such submission" or a state from before the run).
 */
const PRIMARY_READ = { populate: ['collection'], connectionType: 'write' } as const;

/**
 * Collections not yet released that one submitter may hold. Each new submission without a
 * collection takes one of the archive's 9,999 collection accessions (OBIA + 4 digits, never
 * reused), so without a bound one submitter's script could take them all (≈ 5 ms each).
 */
export const DRAFT_COLLECTIONS = 100;

/**
 * Submissions not yet processed (OPEN) one submitter may hold at once; curators and admins have no
 * bound. Each is a row with up to 20,000 characters of description that a script could make without
 * end into a draft it holds (the draft bound counts collections, not submissions).
 */
export const MAX_OPEN_SUBMISSIONS = 100;

/**
 * Clinical records one submission may hold (OBIA_MAX_CLINICAL_RECORDS). Records are staged
 * before any file is parsed, so nothing else bounds them: one 1 MB sheet was 55,000 records
 * (14 s and 258 MB of one request on SQLite), and a loop of calls added without end. Ten times
 * the individuals of the whole archive of the OBIA paper (937).
 */
export const CLINICAL_RECORDS = 10_000;

/** Files the deprecated one-list `fileList` answers with at most. */
export const FILE_LIST_MAX = 10_000;
/** Files a discard reads at a time. */
const DISCARD_PAGE = 1_000;

/** A file an upload staged: its row, and the name it was sent under (kept in staging, never in the database). */
export interface ReceivedFile {
  id: number;
  name: string;
  size: number;
  sha256: string;
  state: FileState;
}

/** Who hears of uploads as they begin and end (the pipeline: IngestPipeline.receiving / received). */
export interface UploadListener {
  receiving(submissionId: number): void;
  /** The upload ended; `stagingPaths` are the files it staged and recorded (none when it failed). */
  received(submissionId: number, stagingPaths: readonly string[]): void;
}

/** The policy's SUBMIT check (src/access/policy.ts): submitters, curators and admins. */
export function requireSubmitter(user: Principal | null): Principal {
  return assertCanWork(user, Action.SUBMIT, null, 'data');
}

/** Submissions: creation, clinical data, received files, and who may see which. */
export class SubmissionService {
  constructor(
    private readonly orm: MikroORM,
    private readonly staging: StagingArea,
    private readonly secret: string,
    /**
     * Told when an upload begins and when it ends, with the files it staged and recorded (the
     * pipeline starts screening them, prescreen.ts, and a run waiting for files takes them).
     */
    private readonly uploads: UploadListener = { receiving() {}, received() {} },
    private readonly limits: { maxDraftCollections: number; maxClinicalRecords?: number } = { maxDraftCollections: DRAFT_COLLECTIONS },
  ) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  async create(user: Principal, input: CreateSubmissionInput): Promise<Submission> {
    // Shown in every listing, portal card and DataCite record: bounded (src/freeText.ts).
    const title = boundedText(input.title, 'title', TEXT_LIMITS.collectionTitle);
    const disease = boundedText(input.disease, 'disease', TEXT_LIMITS.collectionDisease);
    boundedText(input.description, 'description', TEXT_LIMITS.collectionDescription, false);
    const bioProject = input.bioProjectAccession?.trim() || null;
    if (bioProject && !BIOPROJECT_PATTERN.test(bioProject)) {
      throw badInput(`"${bioProject.slice(0, 40)}" is not a BioProject accession: expected PRJCA, PRJNA, PRJEB or PRJDB followed by digits.`, 'bioProjectAccession');
    }
    const options: DeidOptions = { ...OBIA_DEFAULT_OPTIONS };
    for (const [k, v] of Object.entries(input.deidOptions ?? {})) {
      if (!(k in options)) throw badInput(`unknown de-identification option ${k}`, 'deidOptions');
      if (typeof v === 'boolean') (options as any)[k] = v;
    }
    const keywords = (input.keywords ?? []).map((k) => boundedText(k, 'keywords', TEXT_LIMITS.keyword, false)).filter(Boolean);
    if (keywords.length > TEXT_LIMITS.keywords) throw badInput(`keywords holds more than ${TEXT_LIMITS.keywords} keywords`, 'keywords');
    const fields: NewSubmission = { title, disease, keywords, bioProject, options };
    const em = this.em();
    if (!input.collectionAccession) return em.transactional((tx) => this.createWithCollection(tx, user, fields, input));
    assertAccession('collection', input.collectionAccession);
    const accession = input.collectionAccession;
    return em.transactional(async (tx) => {
      // The lock first: on MariaDB a plain read before it would fix the snapshot the count reads.
      await lockUserRow(tx, user.id);
      const collection = await tx.findOne(Collection, { accession });
      if (!collection || !canWork(user, Action.UPLOAD, collection)) throw badInput(`no collection ${accession} you may add to`, 'collection');
      await this.assertOpenSubmissions(tx, user);
      const submission = this.newSubmission(tx, user, fields, input, collection);
      await tx.flush();
      return submission;
    });
  }

  /** Counted under a lock (the user's row, or the accession counter), so a burst cannot all pass. */
  private async assertOpenSubmissions(tx: EntityManager, user: Principal): Promise<void> {
    if (hasRole(user, Role.CURATOR, Role.ADMIN)) return;
    const open = await tx.count(Submission, { submitter: user.id, state: SubmissionState.OPEN });
    if (open >= MAX_OPEN_SUBMISSIONS) {
      throw new QuotaExceededError(`You hold ${open} submissions not yet processed (at most ${MAX_OPEN_SUBMISSIONS}): upload to one of them, or process them first.`, MAX_OPEN_SUBMISSIONS);
    }
  }

  /**
   * A submission with a collection of its own. The accession is drawn first: drawing locks the
   * counter until this transaction ends, so the submitter's drafts counted after it include every
   * other creation that committed first, and concurrent requests cannot all pass the bound.
   */
  private async createWithCollection(em: EntityManager, user: Principal, v: NewSubmission, input: CreateSubmissionInput): Promise<Submission> {
    // The user's row first, as a submission to an existing draft takes it: both count the submitter's open submissions.
    await lockUserRow(em, user.id);
    const accession = await allocateAccession(em, 'collection');
    await this.assertOpenSubmissions(em, user);
    if (!hasRole(user, Role.CURATOR, Role.ADMIN)) {
      const drafts = await em.count(Collection, { submitter: user.id, releaseState: ReleaseState.DRAFT });
      if (drafts >= this.limits.maxDraftCollections) {
        throw new QuotaExceededError(`You hold ${drafts} collections not yet released (at most ${this.limits.maxDraftCollections}): add this submission to one of them (input.collection), or ask a curator to release one.`, this.limits.maxDraftCollections);
      }
    }
    const collection = em.create(Collection, {
      accession, title: v.title, description: input.description ?? '', keywords: v.keywords, disease: v.disease,
      submitter: user.id, submitterOrganization: user.institution ?? null,
      accessibility: input.accessibility ?? Accessibility.OPEN, releaseState: ReleaseState.DRAFT,
      bioProjectAccession: v.bioProject, createdAt: new Date(),
      searchText: [v.title, input.description ?? '', ...v.keywords].join(' ').toLowerCase(),
    });
    const submission = this.newSubmission(em, user, v, input, collection);
    await em.flush();
    return submission;
  }

  private newSubmission(em: EntityManager, user: Principal, v: NewSubmission, input: CreateSubmissionInput, collection: Collection): Submission {
    return em.create(Submission, {
      title: v.title, description: input.description ?? '', keywords: v.keywords, disease: v.disease,
      accessibility: input.accessibility ?? Accessibility.OPEN, bioProjectAccession: v.bioProject,
      deidOptions: v.options, submitter: user.id, collection, state: SubmissionState.OPEN, createdAt: new Date(),
    });
  }

  /** The submission if `user` may see it (its submitter, curators and admins); null otherwise. */
  async find(user: Principal | null, id: number, em: EntityManager = this.em()): Promise<Submission | null> {
    if (!user) return null;
    const submission = await em.findOne(Submission, { id }, PRIMARY_READ);
    if (!submission) return null;
    return canWork(user, Action.VIEW_SUBMISSION, submission) ? submission : null;
  }

  /** The submission if `user` may do `action` on it; else the policy's refusal (absent, hidden and forbidden alike). */
  async findOrFail(user: Principal | null, id: number, em?: EntityManager, action: Action = Action.VIEW_SUBMISSION): Promise<Submission> {
    const submission = user ? await (em ?? this.em()).findOne(Submission, { id }, PRIMARY_READ) : null;
    assertCanWork(user, action, submission, `submission ${id}`);
    return submission!;
  }

  /**
   * The submission's submitter and all their submissions when `user` may add files to it (its
   * submitter, or a curator); null otherwise. One indexed lookup and no entity: it runs for every upload, and a study
   * arrives as hundreds of them.
   */
  private async uploadOwner(user: Principal | null, id: number): Promise<(StagingOwner & { state: SubmissionState }) | null> {
    if (!user || !Number.isSafeInteger(id)) return null;
    // One statement: the submitter's submissions (their staging quota is shared), found through this one.
    const knex = this.em().getKnex();
    const rows: { id: number; submitter: string; state: SubmissionState }[] = await knex('submission').select('id', 'submitter', 'state')
      .where('submitter', knex('submission').select('submitter').where({ id }));
    const submitter = rows[0]?.submitter;
    const state = rows.find((r) => Number(r.id) === id)?.state ?? SubmissionState.OPEN;
    return submitter !== undefined && canWork(user, Action.UPLOAD, { id, submitter })
      ? { user: submitter, submissions: rows.map((r) => Number(r.id)), state } : null;
  }

  /**
   * Stages an upload (one DICOM file or a zip) and records each file as RECEIVED, with the name
   * it was sent under. The rows are inserted directly, not through the unit of work: nothing
   * else of the submission changes, and per upload the ORM's bookkeeping cost more than the insert.
   * Staging counts the bytes against the submission's and its submitter's quotas (see staging.ts);
   * staged bytes whose rows cannot be written are removed again, so a failed upload leaves nothing.
   */
  async receive(user: Principal, submissionId: number, body: Readable, name: string): Promise<ReceivedFile[]> {
    // Told before the first await: a run of the submission between two of a client's uploads
    // sees this one coming and waits for it rather than ending.
    this.uploads.receiving(submissionId);
    let recorded: string[] = [];
    try {
      const owner = await this.uploadOwner(user, submissionId);
      if (!owner) throw refusal(user, Action.UPLOAD, `submission ${submissionId}`);
      const staged = await this.staging.receive(submissionId, body, name, owner);
      const em = this.em();
      const submission = em.getReference(Submission, submissionId, { wrapped: true });
      // As entities, so the driver gives each row its id (from a multi-row insert, raw rows get only one).
      const rows = staged.map((f) => Object.assign(new SubmissionFile(), { submission, originalName: f.label, stagingPath: f.stagingPath, size: f.size, sha256: f.sha256 }));
      try {
        // A zip may bring 200,000 rows: bounded statements (batchWrites.ts), in one transaction.
        await em.transactional((tx) => insertRows(tx, rows));
      } catch (err) {
        await Promise.all(staged.map((f) => this.staging.discard(f.stagingPath)));
        throw err;
      }
      recorded = staged.map((f) => f.stagingPath);
      // PROCESSED says every received file reached a final state; a file received after the run
      // makes that false, so the submission is open again and the next processSubmission takes it.
      // (PROCESSING needs nothing: the run waits for uploads in flight, see IngestPipeline.run.)
      if (owner.state === SubmissionState.PROCESSED && rows.length > 0) {
        await em.nativeUpdate(Submission, { id: submissionId, state: SubmissionState.PROCESSED }, { state: SubmissionState.OPEN });
      }
      return staged.map((f, i) => ({ id: rows[i]!.id, name: f.name, size: f.size, sha256: f.sha256, state: rows[i]!.state }));
    } finally {
      this.uploads.received(submissionId, recorded);
    }
  }

  async addClinicalCsv(user: Principal, submissionId: number, csv: string): Promise<number> {
    let records: ClinicalInput[];
    try { records = parseClinicalCsv(csv, this.maxClinicalRecords()); } catch (err) {
      if (err instanceof TooManyRecordsError) throw this.tooManyRecords(0, `more than ${err.max}`);
      if (err instanceof ClinicalDataError) throw badInput(err.message, 'csv');
      throw err;
    }
    return this.addClinicalData(user, submissionId, records);
  }

  /**
   * Stages clinical data per local patient, keyed by the patient's HMAC. Once the submission's
   * files are parsed, a record for a patient none of them (nor the collection) has is refused.
   * Errors name the row, never the patient ID.
   */
  async addClinicalData(user: Principal, submissionId: number, records: ClinicalInput[]): Promise<number> {
    await this.findOrFail(user, submissionId);
    // One call past the bound can never fit: refused before any patient ID is hashed.
    if (records.length > this.maxClinicalRecords()) throw this.tooManyRecords(0, String(records.length));
    const keys = records.map((r, i) => {
      const id = r.localPatientId?.trim();
      if (!id) throw badInput(`record ${i + 1}: localPatientId is empty`, 'records');
      if (r.age != null && (!Number.isInteger(r.age) || r.age < 0 || r.age > 150)) throw badInput(`record ${i + 1}: age must be a whole number of years`, 'records');
      // Free text is published with the individual as written: one that carries an identifier is refused (clinicalText.ts).
      for (const field of ['medicalHistory', 'familyHistory', 'treatment'] as const) {
        const found = identifierIn(r[field], id);
        if (found) throw badInput(`record ${i + 1}: ${field} carries ${found}; free text is published as written: give years only, and no names, IDs or contacts`, 'records');
      }
      return localPatientKey(id, this.secret);
    });
    // Two records for one patient in one call: which was meant is not ours to guess (the later
    // silently replaced the earlier). Named by position, never by the patient ID.
    const first = new Map<string, number>();
    keys.forEach((k, i) => {
      const j = first.get(k);
      if (j !== undefined) throw badInput(`record ${i + 1} is for the same patient as record ${j + 1}: send one record per patient`, 'records');
      first.set(k, i);
    });
    const gsaHuman = records.map((r, i) => {
      try { return parseGsaHumanAccession(r.gsaHumanAccession, `record ${i + 1}: gsaHumanAccession`); } catch (err) {
        if (err instanceof ClinicalDataError) throw badInput(err.message, 'records');
        throw err;
      }
    });
    // Under the submission's row lock: sheets sent together are staged one after the other, each
    // seeing the records the one before wrote (two inserts of the same patient's record would
    // otherwise meet the unique key, an internal error to the second).
    return this.em().transactional(async (em) => {
      await lockEntityRow(em, 'submission', submissionId);
      const submission = await this.findOrFail(user, submissionId, em);
      // Whether the files are all parsed, and which of these patients they carry: asked of the
      // database, not read from every file's row (a zip brings up to 200,000, read on every call).
      const knex = transactionKnex(em);
      const fileRows = () => knex('submission_file').where('submission_id', submissionId);
      const anyFile = await fileRows().first('id');
      const unparsed = !!anyFile && !!(await fileRows().where('state', FileState.RECEIVED).first('id'));
      if (anyFile && !unparsed) {
        const known = new Set<string>();
        for (let i = 0; i < keys.length; i += 1_000) {
          const rows: { patient_key: string }[] = await fileRows().whereIn('patient_key', keys.slice(i, i + 1_000)).distinct('patient_key');
          for (const r of rows) known.add(r.patient_key);
        }
        const mapped = await em.find(PatientMapping, { collection: submission.collection, patientKey: { $in: keys } }, { fields: ['patientKey'] });
        for (const m of mapped) known.add(m.patientKey);
        const unknown = keys.findIndex((k) => !known.has(k));
        if (unknown >= 0) throw badInput(`record ${unknown + 1}: no file of this submission (or its collection) belongs to that patient`, 'records');
      }
      const existing = new Map((await em.find(ClinicalRecord, { submission, patientKey: { $in: keys } })).map((r) => [r.patientKey, r]));
      // Counted under the row lock, so calls sent together cannot all pass; a patient already staged is a replacement, not a new record.
      const added = new Set(keys.filter((k) => !existing.has(k))).size;
      if (added > 0) {
        const held = await em.count(ClinicalRecord, { submission });
        if (held + added > this.maxClinicalRecords()) throw this.tooManyRecords(held, String(added));
      }
      const meta = em.getMetadata().get(ClinicalRecord.name);
      records.forEach((r, i) => {
        const key = keys[i]!;
        const data = {
          sex: r.sex ?? Sex.UNKNOWN, age: r.age ?? null, species: r.species?.trim() || 'Homo sapiens',
          disease: r.disease ?? null, pathologicalType: r.pathologicalType ?? null, medicalHistory: r.medicalHistory ?? null,
          familyHistory: r.familyHistory ?? null, treatment: r.treatment ?? null, gsaHumanAccession: gsaHuman[i], applied: false,
        };
        // Checked here as well as at the flush (src/db/columnBounds.ts), so the error names the record.
        try { assertFits(meta, data); } catch (err) {
          if (err instanceof ValueTooLongError) throw badInput(`record ${i + 1}: ${err.property} is longer than the archive keeps (${err.max})`, 'records');
          throw err;
        }
        const record = existing.get(key);
        if (record) em.assign(record, data);
        else existing.set(key, em.create(ClinicalRecord, { submission, patientKey: key, ...data }));
      });
      await em.flush();
      // Patients already mapped get their data now; the rest when the pipeline maps them.
      const mappings = await em.find(PatientMapping, { collection: submission.collection, patientKey: { $in: keys } }, { populate: ['individual'] });
      for (const m of mappings) applyClinical(em, existing.get(m.patientKey)!, m.individual.getEntity());
      await em.flush();
      return records.length;
    });
  }

  private maxClinicalRecords(): number {
    return this.limits.maxClinicalRecords ?? CLINICAL_RECORDS;
  }

  private tooManyRecords(held: number, added: string): QuotaExceededError {
    const max = this.maxClinicalRecords();
    return new QuotaExceededError(`A submission holds at most ${max} clinical records: it holds ${held}, and this call has ${added} records of patients it does not hold yet. Send records for the patients of this submission only, or split them over submissions.`, max);
  }

  /**
   * A curator's discard: deletes the received bytes of every file that reached a final state
   * (indexed, duplicate or quarantined); the rows, with their states and reasons, stay. Files
   * still in the pipeline keep their bytes, so a later run can finish them.
   */
  async discardStaged(user: Principal, submissionId: number): Promise<number> {
    assertCanWork(user, Action.DISCARD_STAGED, null, `submission ${submissionId}`);
    const em = this.em();
    await this.findOrFail(user, submissionId, em);
    // Page by id through the paths alone: a zip brings up to 200,000 files, and loading every row
    // as an entity first held them all in memory (and in the request's identity map) at once.
    const knex = em.getKnex();
    let removed = 0;
    for (let after = 0; ;) {
      const rows: { id: number; staging_path: string }[] = await knex('submission_file')
        .where({ submission_id: submissionId }).whereIn('state', [FileState.INDEXED, FileState.DUPLICATE, FileState.QUARANTINED])
        .andWhere('id', '>', after).orderBy('id').limit(DISCARD_PAGE).select('id', 'staging_path');
      if (!rows.length) return removed;
      for (const r of rows) if (await this.staging.discard(r.staging_path)) removed++;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  async countsByState(submissionId: number): Promise<Record<FileState, number>> {
    const rows: { state: FileState; n: number }[] = await this.em().getKnex()('submission_file')
      .where({ submission_id: submissionId }).groupBy('state').select('state').count({ n: '*' });
    const counts = Object.fromEntries(Object.values(FileState).map((s) => [s, 0])) as Record<FileState, number>;
    for (const r of rows) counts[r.state] = Number(r.n);
    return counts;
  }

  /**
   * Every file of a submission as one list (the deprecated `fileList`), while there are at most
   * FILE_LIST_MAX: a zip may bring 200,000, and one list of them all was tens of megabytes of
   * JSON built in one request. Past the bound the caller is told to page (`files`).
   */
  async files(submissionId: number): Promise<SubmissionFile[]> {
    const rows = await this.em().find(SubmissionFile, { submission: submissionId }, { orderBy: { id: 'asc' }, limit: FILE_LIST_MAX + 1 });
    if (rows.length > FILE_LIST_MAX) throw badInput(`the submission has more than ${FILE_LIST_MAX} files: page through them with files(first, after)`, 'fileList');
    return rows;
  }

  /** One page of a submission's files in the order received, optionally only those in `states` (keyset on the id). */
  async filesPage(submissionId: number, args: PageArgs & { states?: FileState[] | null }): Promise<Page<SubmissionFile>> {
    const size = pageSize(args.first);
    const afterId = decodeCursor('file', args.after);
    const where = { submission: submissionId, ...(args.states?.length ? { state: { $in: args.states } } : {}) };
    const em = this.em();
    const rows = size === 0 ? [] : await em.find(SubmissionFile, { ...where, id: { $gt: afterId } }, { orderBy: { id: 'asc' }, limit: size + 1 });
    return toPage('file', rows, size, afterId, () => em.fork().count(SubmissionFile, where));
  }
}

/**
 * Copies a staged clinical record onto its individual. A record without a GSA-Human accession
 * keeps the individual's link (a later submission's sheet need not repeat it).
 */
export function applyClinical(em: EntityManager, record: ClinicalRecord, individual: Individual): void {
  em.assign(individual, {
    sex: record.sex, age: record.age ?? individual.age ?? null, species: record.species,
    disease: record.disease ?? individual.disease ?? null, pathologicalType: record.pathologicalType,
    medicalHistory: record.medicalHistory, familyHistory: record.familyHistory, treatment: record.treatment,
    gsaHumanAccession: record.gsaHumanAccession ?? individual.gsaHumanAccession ?? null,
  });
  record.applied = true;
}
