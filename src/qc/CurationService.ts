import type { EntityManager } from '@mikro-orm/knex';
import type { Knex } from 'knex';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/Principal.js';
import { Action, assertCanWork, refusal } from '../access/policy.js';
import { ReleaseState } from '../domain.js';
import { Collection, Series, Submission, SubmissionFile } from '../entities/index.js';
import { FileCuration, QuarantineAction } from '../entities/FileCuration.js';
import { QcEvent, QcEventKind } from '../entities/QcEvent.js';
import { QcVerdict, SeriesReview } from '../entities/SeriesReview.js';
import { FileState } from '../entities/SubmissionFile.js';
import type { IngestPort } from '../ingest/stage.js';
import { releaseBlockers, type ReleaseBlocker } from './blockers.js';
import { recordQcEvent } from './events.js';
import { checkRepair, repaired, type Repair } from './repair.js';
import { versionRelease } from '../releases/ReleaseService.js';
import { logger } from '../log.js';
import { ConflictError } from '../errors.js';
import { assertAccession } from '../accessions.js';
import { isUid } from '../dicom/index.js';
import { MAX_PAGE_SIZE, pageSize } from '../browse/pagination.js';
import { boundToTransaction, lockEntityRow, transactionKnex } from '../db/transitions.js';

/** The policy's CURATE check (src/access/policy.ts): curators and admins. */
export function requireCurator(user: Principal | null, named = 'this collection'): Principal {
  return assertCanWork(user, Action.CURATE, null, named);
}

function badInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

function notFound(what: string): GraphQLError {
  return new GraphQLError(`no ${what}`, { extensions: { code: 'NOT_FOUND' } });
}

/** The most QC events one `qcHistory` answers (the archive's page bound). */
export const MAX_HISTORY = MAX_PAGE_SIZE;

/** Released collections' new series cannot be reviewed (reviewSeries refuses); files still in flight or quarantined do block the next version. */
const REAPPLY_ON_RERELEASE = new Set(['PROCESSING', 'UNRESOLVED_QUARANTINE']);

export interface ReleaseOutcome {
  released: boolean;
  collection: Collection;
  blockers: ReleaseBlocker[];
}

/**
 * The curator's and submitter's QC decisions. Every method checks who may act before it
 * reads anything else, writes its decision and a QcEvent (who, when, why) together, and
 * announces the event on the QC_EVENTS topic.
 */
export class CurationService {
  constructor(private readonly em: EntityManager, private readonly user: Principal | null, private readonly ingest: IngestPort) {}

  /** The submission that delivered a series' images (events are filed under it). */
  private async submissionOfSeries(knex: Knex, seriesId: number): Promise<number | null> {
    const row = await knex('submission_file as f').join('image as i', 'i.uid', 'f.image_uid')
      .where('i.series_id', seriesId).first('f.submission_id as id');
    return row ? Number(row.id) : null;
  }

  /**
   * A verdict is decided under its collection's row lock, as a release is (releaseCollection):
   * a FAIL sent while the collection is being released either comes first (and the release is
   * refused for it) or finds the series released, never a failed series published. Two first
   * verdicts at once write one review, the later replacing the earlier.
   */
  async reviewSeries(uid: string, verdict: QcVerdict, note: string, seenImages: number | null = null): Promise<SeriesReview> {
    const curator = requireCurator(this.user);
    // A malformed identifier is bad input, refused without echoing it (the format is public).
    if (!isUid(uid)) throw badInput('uid is not a DICOM UID (dot-separated numbers, at most 64 characters)', 'uid');
    const found = await this.em.getKnex()('series').where('uid', uid).first('id', 'collection_id');
    if (!found) throw notFound(`series ${uid}`);
    return this.em.transactional(async (tx) => {
      await lockEntityRow(tx, 'collection', Number(found.collection_id));
      const series = await tx.findOneOrFail(Series, { id: Number(found.id) }, { refresh: true });
      const collection = await tx.findOneOrFail(Collection, { id: series.collection.id }, { refresh: true });
      // In a released collection only series that arrived after the release (unpublished) await
      // review; a PASS publishes one (issue 22: release means reviewed).
      const released = collection.releaseState === ReleaseState.RELEASED;
      if (released && series.published) throw badInput('the series is released; it can no longer be reviewed', 'uid');
      if (verdict === QcVerdict.FAIL && !note.trim()) throw badInput('a FAIL verdict needs a note saying what is wrong', 'note');
      // The verdict is on the images the curator looked at: images that joined the series since
      // (the catalogue drops a PASS given before they arrive, not one sent while they do) are unseen.
      if (seenImages !== null && seenImages !== series.imageCount) {
        throw new ConflictError(`the series has ${series.imageCount} image(s) now, not the ${seenImages} reviewed: look at it again`);
      }
      let review = await tx.findOne(SeriesReview, { series: series.id }, { refresh: true });
      if (!review) review = tx.create(SeriesReview, { series, verdict, note, reviewer: curator.id, reviewedAt: new Date() });
      Object.assign(review, { verdict, note, reviewer: curator.id, reviewedAt: new Date() });
      if (released) series.published = verdict === QcVerdict.PASS;
      const submissionId = await this.submissionOfSeries(transactionKnex(tx), series.id);
      // The event's flush is the transaction's last statement; it is announced just before the commit.
      await recordQcEvent(tx, {
        collectionId: collection.id, submissionId,
        kind: verdict === QcVerdict.PASS ? QcEventKind.SERIES_PASSED : QcEventKind.SERIES_FAILED,
        subject: `series:${uid}`, actor: curator.id, reason: verdict, message: note,
      });
      return review;
    });
  }

  /** The file as it is now (under its row lock, read again whatever the unit of work held). */
  private async fileFor(em: EntityManager, fileId: number): Promise<SubmissionFile> {
    const file = await em.findOne(SubmissionFile, { id: fileId }, { populate: ['submission'], refresh: true });
    if (!file) throw notFound(`file ${fileId}`);
    return file;
  }

  private async curationOf(em: EntityManager, file: SubmissionFile): Promise<FileCuration> {
    return (await em.findOne(FileCuration, { file: file.id }, { refresh: true })) ?? em.create(FileCuration, { file });
  }

  /**
   * Decides about one file under its row lock: requests about the same file sent together (two
   * repair requests, DISCARD and REPROCESS, REPROCESS twice) decide one after the other, each
   * seeing what the one before wrote, so the file has one curation row and one resolution.
   */
  private onFile<T>(fileId: number, decide: (tx: EntityManager) => Promise<T>, absent = () => notFound(`file ${fileId}`)): Promise<T> {
    return this.em.transactional(async (tx) => {
      if (!Number.isSafeInteger(fileId) || !(await lockEntityRow(tx, 'submission_file', fileId))) throw absent();
      return decide(tx);
    });
  }

  async requestRepair(fileId: number, message: string): Promise<SubmissionFile> {
    const curator = requireCurator(this.user);
    if (!message.trim()) throw badInput('say what the submitter should repair', 'message');
    return this.onFile(fileId, async (tx) => {
      const file = await this.fileFor(tx, fileId);
      // Only a quarantined file can be repaired (resolveQuarantined): a request about any other would wait for ever.
      if (file.state !== FileState.QUARANTINED) throw badInput(`the file is ${file.state}, not QUARANTINED: there is nothing to repair`, 'file');
      const curation = await this.curationOf(tx, file);
      if (curation.resolution === QuarantineAction.DISCARD) throw badInput('the file was discarded', 'file');
      Object.assign(curation, { repairRequest: message, repairRequestedBy: curator.id, repairRequestedAt: new Date() });
      const submission = file.submission.getEntity();
      await recordQcEvent(tx, {
        collectionId: submission.collection.id, submissionId: submission.id,
        kind: QcEventKind.REPAIR_REQUESTED, subject: `file:${file.id}`, actor: curator.id, reason: file.quarantineReason ?? null, message,
      });
      return file;
    });
  }

  /**
   * The submitter (or a curator) resolves a quarantined file: DISCARD leaves it out for good;
   * REPROCESS applies the repair to a copy of the staged bytes (the original stays as
   * received) and starts the pipeline over it again; the answer is the file as it is then
   * (RECEIVED, or further along), and the run's end is seen on submissionProgress. A second
   * resolution of the same file, even one sent at the same moment, is refused (BAD_USER_INPUT).
   */
  async resolveQuarantined(fileId: number, action: QuarantineAction, repair: Repair | null): Promise<SubmissionFile> {
    // Anonymous callers learn nothing, not even whether the file exists.
    if (!this.user) throw refusal(null, Action.RESOLVE_QUARANTINE, `file ${fileId}`);
    // The repair's values are checked before anything is read or staged (a value the file cannot carry is bad input, not a new quarantine).
    if (repair) checkRepair(repair);
    const { file, submission } = await this.onFile(fileId, async (tx) => {
      const file = await this.fileFor(tx, fileId);
      const submission = file.submission.getEntity();
      const actor = assertCanWork(this.user, Action.RESOLVE_QUARANTINE, submission, `file ${fileId}`);
      if (file.state !== FileState.QUARANTINED) throw badInput(`the file is ${file.state}, not QUARANTINED`, 'file');
      const curation = await this.curationOf(tx, file);
      if (curation.resolution === QuarantineAction.DISCARD) throw badInput('the file was already discarded', 'file');
      const event = { collectionId: submission.collection.id, submissionId: submission.id, subject: `file:${file.id}`, actor: actor.id };

      if (action === QuarantineAction.DISCARD) {
        Object.assign(curation, { resolution: action, resolvedBy: actor.id, resolvedAt: new Date() });
        await recordQcEvent(tx, { ...event, kind: QcEventKind.DISCARDED, reason: file.quarantineReason ?? null, message: `discarded (was ${file.quarantineReason ?? 'quarantined'})` });
        return { file, submission: null };
      }

      if (file.quarantineReason === 'MISSING_PATIENT_ID' && !repair?.patientId?.trim()) {
        throw badInput('this file has no PatientID: give repair.patientId (the local patient ID it belongs to)', 'repair');
      }
      const applied: string[] = [];
      if (repair && Object.values(repair).some((v) => typeof v === 'string' && v.trim())) {
        // Repaired from the bytes as received (verified), never from bytes changed since.
        const copy = repaired(await this.ingest.staging.read(file.stagingPath, file.sha256), repair);
        file.stagingPath = await this.ingest.staging.stageRepair(file.stagingPath, copy.bytes);
        applied.push(...copy.applied);
      }
      const was = file.quarantineReason ?? 'quarantined';
      Object.assign(file, { state: FileState.RECEIVED, quarantineReason: null, quarantineMessage: null });
      Object.assign(curation, { resolution: action, resolvedBy: actor.id, resolvedAt: new Date() });
      // Values the submitter supplied (a patient ID) are PHI: the history says what was repaired, not to what.
      await recordQcEvent(tx, { ...event, kind: QcEventKind.REPROCESSED, reason: was, message: applied.length ? `reprocessed with ${applied.join(', ')} repaired` : 'reprocessed' });
      return { file, submission };
    // An absent file is refused as another's is, in the same words: the answer never says which ids exist.
    }, () => refusal(this.user, Action.RESOLVE_QUARANTINE, `file ${fileId}`));
    if (!submission) return file;
    // The run is started, not awaited: a long job never holds the request open (the file may share its
    // run with every other unfinished file of the submission). Progress flows on submissionProgress.
    const { run } = await this.ingest.pipeline.start(submission.id);
    run.catch((err) => logger.error({ err, submission: submission.id }, 'ingest run after REPROCESS failed'));
    return this.em.fork().findOneOrFail(SubmissionFile, { id: file.id }, { connectionType: 'write' });
  }

  /**
   * Releases under the collection's row lock, which reviewSeries takes too: the blockers are read
   * after every verdict that came first has committed, and a verdict that comes later finds the
   * collection released. Two releases at once are one release: the second finds it released and,
   * nothing having changed, gets the same version (each cut also locks the row, releases/).
   */
  async releaseCollection(accession: string): Promise<ReleaseOutcome> {
    const curator = requireCurator(this.user);
    assertAccession('collection', accession);
    const found = await this.em.getKnex()('collection').where('accession', accession).first('id');
    if (!found) throw notFound(`collection ${accession}`);
    const outcome = await this.em.transactional(async (tx): Promise<ReleaseOutcome> => {
      await lockEntityRow(tx, 'collection', Number(found.id));
      const collection = await tx.findOneOrFail(Collection, { id: Number(found.id) }, { refresh: true });
      // Released again after changes (new series, withdrawals): the next version is cut, nothing else changes.
      const again = collection.releaseState === ReleaseState.RELEASED;
      const blockers = (await releaseBlockers(boundToTransaction(tx), collection.id)).filter((b) => !again || REAPPLY_ON_RERELEASE.has(b.reason));
      const subject = `collection:${accession}`;
      if (blockers.length > 0) {
        await recordQcEvent(tx, {
          collectionId: collection.id, submissionId: null, kind: QcEventKind.RELEASE_REFUSED, subject, actor: curator.id,
          reason: blockers[0].reason, message: blockers.map((b) => b.message).join('; '),
        });
        return { released: false, collection, blockers };
      }
      if (!again) {
        Object.assign(collection, { releaseState: ReleaseState.RELEASED, releasedAt: new Date() });
        // Every series passed review (no blockers): all of them become visible with the first release.
        // Later arrivals are published one by one as a curator passes them (reviewSeries).
        await tx.nativeUpdate(Series, { collection: collection.id }, { published: true });
        await recordQcEvent(tx, { collectionId: collection.id, submissionId: null, kind: QcEventKind.RELEASED, subject, actor: curator.id, reason: null, message: 'released' });
      }
      return { released: true, collection, blockers: [] };
    });
    // Issue 19: every release is an immutable, numbered version (src/releases), cut after the
    // release commits (its own transaction, which the version's readers wait for).
    if (outcome.released) await versionRelease(this.em, outcome.collection.id, curator);
    return outcome;
  }

  /**
   * Decisions about a submission and about its collection as a whole, oldest first, `first` at a
   * time after the event `after`: a submission has an event per quarantined or duplicate file (a
   * zip at its bound: 200,000), and every one of them was read and sent on each query.
   */
  async history(submission: Submission, first = MAX_HISTORY, after = 0): Promise<QcEvent[]> {
    const size = pageSize(first);
    return this.em.find(QcEvent, {
      id: { $gt: after },
      $or: [{ submission: submission.id }, { submission: null, collection: submission.collection.id }],
    }, { orderBy: { id: 'asc' }, limit: size });
  }
}
