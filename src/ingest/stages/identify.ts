// identify: every file of the batch gets its individual. A file screening could not read (its
// staged bytes are gone) is read by the worker, which names the reason; a file whose
// de-identified SOP Instance UID the archive already holds is a duplicate; each local patient
// maps (by HMAC, never by the submitted ID) to the collection's Individual, created with a fresh
// accession and the submission's clinical data the first time.
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { allocateAccession } from '../../accessions.js';
import { localPatientKey, remapUid } from '../../deid/index.js';
import { Sex } from '../../domain.js';
import { ClinicalRecord, Collection, Image, Individual, PatientMapping } from '../../entities/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import { updateRows } from '../batchWrites.js';
import { Quarantine, type Batch, type FileWork, type RunContext } from '../stage.js';
import { applyClinical } from '../SubmissionService.js';
import { lockEntityRow } from '../../db/transitions.js';
import type { EntityManager } from '@mikro-orm/knex';
import type { PipelineDeps, Stage } from './deps.js';

export const identify: Stage = {
  name: 'identify',
  async run(batch, deps) {
    const received = batch.works.filter((w) => batch.live(w) && w.file.state === FileState.RECEIVED);
    await Promise.all(received.map((w) => readIdentity(w, batch.run.uidKey, deps).catch((e) => batch.fail(w, e))));
    const identified = received.filter((w) => batch.live(w));
    await updateRows(deps.em(), 'submission_file', identified.map((w) => ({
      id: w.file.id, values: { state: FileState.PARSED, patient_key: w.file.patientKey, image_uid: w.file.imageUid },
    })));

    const todo = batch.works.filter((w) => batch.live(w) && w.file.state !== FileState.STORED);
    await markDuplicates(batch, todo, deps);
    for (const w of todo.filter((x) => batch.live(x))) {
      try { w.individual = await deps.exclusive(() => mapPatient(w.file.patientKey!, batch.run, deps)); } catch (e) { batch.fail(w, e); }
    }
  },
};

async function readIdentity(w: FileWork, uidKey: string, deps: PipelineDeps): Promise<void> {
  const identity = await deps.cpu.identify(deps.staging.absolute(w.file.stagingPath));
  if (!identity.sopInstanceUid) throw new Quarantine('MISSING_SOP_INSTANCE_UID', 'the file has no SOPInstanceUID');
  if (!identity.patientId) throw new Quarantine('MISSING_PATIENT_ID', 'the file has no PatientID, so it cannot be assigned to an individual');
  if (!identity.studyInstanceUid || !identity.seriesInstanceUid) throw new Quarantine('MISSING_UID', 'the file lacks a StudyInstanceUID or SeriesInstanceUID');
  Object.assign(w.file, { state: FileState.PARSED, patientKey: localPatientKey(identity.patientId, deps.secret), imageUid: remapUid(identity.sopInstanceUid, uidKey) });
}

/**
 * The de-identified SOPInstanceUID is the image's identity: if the archive holds it and not
 * through this file (Image rows are only written with the file's STORED mark), the file is a
 * duplicate; so is a second file of the batch with the same identity.
 */
async function markDuplicates(batch: Batch, works: FileWork[], deps: PipelineDeps): Promise<void> {
  const live = works.filter((w) => batch.live(w));
  if (live.length === 0) return;
  const held = new Set((await deps.em().find(Image, { uid: { $in: live.map((w) => w.file.imageUid!) } }, { fields: ['uid'] })).map((i) => i.uid));
  for (const w of live) {
    if (held.has(w.file.imageUid!)) batch.fail(w, { kind: 'DUPLICATE', reason: 'DUPLICATE_UID', message: 'the archive already holds this SOP instance; kept once' });
    held.add(w.file.imageUid!);
  }
}

/**
 * Finds the individual for a local patient (by HMAC) in the collection, or creates it with a fresh
 * accession, and applies the patient's staged clinical record. Decided under the submission's row
 * lock, as addClinicalData stages records under it: otherwise a record staged between this read of
 * the record and the mapping's commit looked for a mapping not yet there, and neither applied it.
 */
async function mapPatient(patientKey: string, run: RunContext, deps: PipelineDeps): Promise<{ id: number; accession: string }> {
  const cached = run.individuals.get(patientKey);
  if (cached) return cached;
  let found: { id: number; accession: string };
  try {
    found = await deps.em().transactional((em) => mapUnderLock(em, patientKey, run));
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    // Another process (a submission of the same collection) mapped the patient first; the accession
    // we drew stays unused (never reused). Again, to find its mapping and apply our record to it.
    found = await deps.em().transactional((em) => mapUnderLock(em, patientKey, run));
  }
  run.individuals.set(patientKey, found);
  return found;
}

async function mapUnderLock(em: EntityManager, patientKey: string, run: RunContext): Promise<{ id: number; accession: string }> {
  // The lock first: on MariaDB the transaction's snapshot is taken at its first plain read.
  await lockEntityRow(em, 'submission', run.submissionId);
  const record = await em.findOne(ClinicalRecord, { submission: run.submissionId, patientKey });
  let mapping: PatientMapping | null = await em.findOne(PatientMapping, { collection: run.collectionId, patientKey }, { populate: ['individual'] });
  if (!mapping) {
    const individual = em.create(Individual, {
      accession: await allocateAccession(em, 'individual'),
      collection: em.getReference(Collection, run.collectionId),
      sex: Sex.UNKNOWN, species: 'Homo sapiens', disease: run.disease,
    });
    mapping = em.create(PatientMapping, { collection: em.getReference(Collection, run.collectionId), patientKey, individual, createdAt: new Date() });
    if (record) applyClinical(em, record, individual);
  } else if (record && !record.applied) {
    applyClinical(em, record, mapping.individual.getEntity());
  }
  await em.flush();
  const individual = mapping.individual.getEntity();
  return { id: individual.id, accession: individual.accession };
}
