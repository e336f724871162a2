// catalogue: Study, Series and Image rows for the batch's de-identified files and their STORED
// marks, in one transaction (under the pipeline's exclusive section: studies and series are
// shared rows). A study or series that already belongs to another individual quarantines the
// file (MIXED_PATIENTS); an instance stored meanwhile makes it a duplicate. A batch that fails
// as a whole (another process created the same study at the same moment) is retried file by
// file, so one file's conflict quarantines that file only.
import {
  ConnectionException, DeadlockException, DriverException, LockWaitTimeoutException, raw, ReadOnlyException, Reference,
  TableNotFoundException, UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { allocateAccession } from '../../accessions.js';
import { ageYears, EXPLICIT_LE, int, isoDate, isUid, text } from '../../dicom/index.js';
import { ANATOMICAL_SITES } from '../../domain.js';
import { Collection, Image, Individual, Series, Study, SubmissionFile } from '../../entities/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import { QcVerdict, SeriesReview } from '../../entities/SeriesReview.js';
import type { MetadataFields } from '../cpuTasks.js';
import { Quarantine, type Batch, type FileOutcome, type FileWork } from '../stage.js';
import type { PipelineDeps, Stage } from './deps.js';

const SITES = new Set<string>(ANATOMICAL_SITES);

export const catalogue: Stage = {
  name: 'catalogue',
  async run(batch, deps) {
    const works = batch.works.filter((w) => batch.live(w) && w.file.state === FileState.DEIDENTIFIED && w.outcome);
    await deps.exclusive(() => storeMetadata(works, batch, deps));
  },
};

async function storeMetadata(works: FileWork[], batch: Batch, deps: PipelineDeps): Promise<void> {
  if (works.length === 0) return;
  try {
    const outcomes = await storeMetadataOnce(works, batch, deps);
    for (const [w, o] of outcomes) batch.fail(w, o);
  } catch (err) {
    if (works.length === 1) { batch.fail(works[0], refusedValues(err) ?? err); return; }
    for (const w of works) { w.image = undefined; await storeMetadata([w], batch, deps); }
  }
}

/** Errors of the database's state, not of the values written: they end the run. */
const DATABASE_STATE_ERRORS = [ConnectionException, LockWaitTimeoutException, DeadlockException, ReadOnlyException, TableNotFoundException];

/**
 * A database error that only this file's values cause, as the file's quarantine. A database
 * failure ends the run (the next run retries every file), which is right for an outage and wrong
 * for a value the database will never take: every run of the submission then ended at the same
 * file. Alone in its transaction, a file whose write fails for any reason but the database's
 * state (its connection, a lock, a read-only or missing schema) or a lost race is set aside with
 * the error's class (never its message: it quotes the values); a curator may reprocess it.
 */
export function refusedValues(err: unknown): Quarantine | null {
  if (!(err instanceof DriverException) || err instanceof UniqueConstraintViolationException) return null;
  if (DATABASE_STATE_ERRORS.some((c) => err instanceof c)) return null;
  return new Quarantine('CATALOGUE_REFUSED', `the archive's database refused this file's values (${err.name})`);
}

async function storeMetadataOnce(works: FileWork[], batch: Batch, deps: PipelineDeps): Promise<Map<FileWork, Omit<FileOutcome, 'fileId'> | Quarantine>> {
  const outcomes = new Map<FileWork, Omit<FileOutcome, 'fileId'> | Quarantine>();
  const { collectionId } = batch.run;
  await deps.em().transactional(async (tx) => {
    outcomes.clear();
    const uids = (key: keyof MetadataFields) => [...new Set(works.map((w) => text(w.outcome!.fields[key])).filter((u): u is string => !!u))];
    const studies = new Map((await tx.find(Study, { studyInstanceUid: { $in: uids('StudyInstanceUID') } })).map((s) => [s.studyInstanceUid, s]));
    const seriesByUid = new Map((await tx.find(Series, { uid: { $in: uids('SeriesInstanceUID') } })).map((s) => [s.uid, s]));
    // Checked again under the lock: another batch may have stored the same instance meanwhile.
    const held = new Set((await tx.find(Image, { uid: { $in: uids('SOPInstanceUID') } }, { fields: ['uid'] })).map((i) => i.uid));
    // Files another worker stored meanwhile (a job whose worker lost its lock while still running
    // is run again elsewhere): their image is their own, not a duplicate; they are left as stored.
    const storedElsewhere = new Set((await tx.find(SubmissionFile, { id: { $in: works.map((w) => w.file.id) }, state: { $ne: FileState.DEIDENTIFIED } }, { fields: ['id'] })).map((f) => f.id));
    const storedIds: number[] = [];
    const images: { work: FileWork; image: Image }[] = [];
    /** Images added to series that existed before this transaction, counted in SQL below. */
    const added = new Map<Series, number>();
    const created = new Set<Series>();
    for (const w of works) {
      if (storedElsewhere.has(w.file.id)) continue;
      const ds = w.outcome!.fields;
      const individualId = w.individual!.id;
      const studyUid = text(ds.StudyInstanceUID);
      const seriesUid = text(ds.SeriesInstanceUID);
      const sopUid = text(ds.SOPInstanceUID);
      if (!studyUid || !seriesUid || !sopUid) {
        outcomes.set(w, new Quarantine('MISSING_UID', 'the de-identified file lacks a Study, Series or SOP Instance UID'));
        continue;
      }
      // Kept from the source file (de-identification gives the instance, series and study new UIDs).
      const sopClassUid = text(ds.SOPClassUID);
      if (sopClassUid !== null && !isUid(sopClassUid)) {
        outcomes.set(w, new Quarantine('INVALID_UID', 'the SOP Class UID is not a DICOM UID (dot-separated numbers, at most 64 characters)'));
        continue;
      }
      if (held.has(sopUid)) {
        outcomes.set(w, { kind: 'DUPLICATE', reason: 'DUPLICATE_UID', message: 'the archive already holds this SOP instance; kept once' });
        continue;
      }
      const modality = (text(ds.Modality) ?? 'OT').slice(0, 16);
      let study = studies.get(studyUid);
      if (study && study.individual.id !== individualId) {
        outcomes.set(w, new Quarantine('MIXED_PATIENTS', 'the study already belongs to another individual: images of another patient are mixed into it'));
        continue;
      }
      let series = seriesByUid.get(seriesUid);
      if (series && series.individual.id !== individualId) {
        outcomes.set(w, new Quarantine('MIXED_PATIENTS', 'the series already belongs to another individual: images of another patient are mixed into it'));
        continue;
      }
      if (!study) {
        study = tx.create(Study, {
          accession: await allocateAccession(tx, 'study'), studyInstanceUid: studyUid,
          individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, collectionId),
          description: text(ds.StudyDescription)?.slice(0, 500) ?? null, studyDate: isoDate(ds.StudyDate),
          ageAtStudy: ageYears(ds.PatientAge), modalities: [modality],
        });
        studies.set(studyUid, study);
      } else if (!study.modalities.includes(modality)) {
        study.modalities = [...study.modalities, modality];
      }
      if (!series) {
        const site = text(ds.BodyPartExamined)?.toUpperCase().replace(/\s+/g, '') ?? null;
        series = tx.create(Series, {
          uid: seriesUid, study, individual: tx.getReference(Individual, individualId), collection: tx.getReference(Collection, collectionId),
          modality, anatomicalSite: site && (SITES.has(site) || site.length <= 32) ? site : null,
          description: text(ds.SeriesDescription)?.slice(0, 500) ?? null, seriesNumber: int(ds.SeriesNumber), imageCount: 0,
        });
        seriesByUid.set(seriesUid, series);
        created.add(series);
      }
      if (created.has(series)) series.imageCount += 1;
      else added.set(series, (added.get(series) ?? 0) + 1);
      // Release means reviewed (issue 22): a series that gains images is hidden again
      // (src/browse/visibility.ts) until a curator passes it once more.
      series.published = false;
      images.push({
        work: w,
        image: Object.assign(new Image(), {
          uid: sopUid, series: Reference.create(series), sopClassUid, instanceNumber: int(ds.InstanceNumber),
          rows: int(ds.Rows), columns: int(ds.Columns), frames: int(ds.NumberOfFrames) ?? 1, bitsAllocated: int(ds.BitsAllocated),
          transferSyntaxUid: w.outcome!.transferSyntaxUid ?? EXPLICIT_LE, sha256: w.outcome!.sha256, size: w.outcome!.size,
        }),
      });
      held.add(sopUid);
      storedIds.push(w.file.id);
    }
    // New studies and series (and the counts) first; then the images in one insert outside the
    // unit of work: nothing reads them back in this run, and tracking them cost more than the insert.
    await tx.flush();
    // Workers in other processes add to the same series at the same time: an increment in SQL,
    // not a count read earlier and written back (that loses the other worker's images).
    for (const [s, n] of added) await tx.nativeUpdate(Series, { id: s.id }, { imageCount: raw('image_count + ?', [n]) });
    // A PASS covers the images the curator looked at, not those that join the series after it (a
    // repaired file, a later upload; perhaps held for pixel review, which a PASS accepts): the
    // series is unreviewed again and blocks release until passed once more. A FAIL stands.
    if (added.size) await tx.nativeDelete(SeriesReview, { series: { $in: [...added.keys()].map((s) => s.id) }, verdict: QcVerdict.PASS });
    await tx.insertMany(images.map(({ image }) => image));
    for (const { work, image } of images) work.image = { id: image.id, seriesId: image.series.id, uid: image.uid };
    if (storedIds.length) await tx.nativeUpdate(SubmissionFile, { id: { $in: storedIds } }, { state: FileState.STORED });
  });
  for (const w of works) if (w.image) w.file.state = FileState.STORED;
  return outcomes;
}
