import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { zipSync } from 'fflate';
import { Readable } from 'node:stream';
import { Role, type Principal } from '../src/auth/Principal.js';
import { Collection, Series } from '../src/entities/index.js';
import { QcVerdict } from '../src/entities/SeriesReview.js';
import { Sex } from '../src/domain.js';
import type { Ingest, ProcessSummary } from '../src/ingest/index.js';
import { CurationService } from '../src/qc/CurationService.js';
import { SEED_OWNER } from './catalogue.js';
import { DEFAULT_IMAGE_SCALE, planImageArchive, type ImageScale, type PlannedCollection } from './imagePlan.js';
import { Random } from './random.js';

/** The seed's submitter: the data owner of the four collections (controlled-access requests go to them). */
export const SEED_SUBMITTER: Principal = { id: SEED_OWNER.sub, name: SEED_OWNER.name, email: null, institution: SEED_OWNER.institution, roles: [Role.SUBMITTER] };
/** The curator who reviews and releases the seeded collections. */
export const SEED_CURATOR: Principal = { id: 'seed-curator', name: 'Seed Curator', email: null, institution: SEED_OWNER.institution, roles: [Role.CURATOR] };

export interface ImageSeedSummary { collections: number; individuals: number; studies: number; series: number; images: number; seconds: number }

/**
 * The default archive with real images, built the way any submitter's data arrives: per
 * collection a submission, its series uploaded as zips of DICOM files, its clinical data, the
 * pipeline (de-identification, QC, thumbnails, hash codes, two stored copies), then a curator's
 * review of every series and the release. Nothing is written past the services: even the
 * GSA-Human links arrive in the clinical data and reach the individuals through the pipeline.
 */
export async function seedImageArchive(orm: MikroORM, ingest: Ingest, opts: { scale?: ImageScale; log?: (m: string) => void } = {}): Promise<ImageSeedSummary> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const plan = planImageArchive(opts.scale ?? DEFAULT_IMAGE_SCALE);
  const totals = { collections: 0, individuals: 0, studies: 0, series: 0, images: 0 };
  for (const planned of plan.collections) {
    const summary = await seedCollection(orm, ingest, planned);
    totals.collections++;
    totals.individuals += planned.individuals.length;
    totals.studies += planned.individuals.reduce((s, i) => s + i.studies.length, 0);
    totals.series += planned.individuals.reduce((s, i) => s + i.studies.reduce((t, st) => t + st.series.length, 0), 0);
    totals.images += summary.ingested;
    log(`seed: ${planned.def.accession} released with ${summary.ingested} images`);
  }
  const leftOut = plan.leftOut.reduce((s, p) => s + p.share, 0);
  log(`seed: ${Math.round(leftOut * 100)}% of the paper's series are of (modality, site) pairs no real source here fits; they are left out (seeds/images/ATTRIBUTION.md)`);
  return { ...totals, seconds: (performance.now() - started) / 1000 };
}

async function seedCollection(orm: MikroORM, ingest: Ingest, planned: PlannedCollection): Promise<ProcessSummary> {
  const { def } = planned;
  const submission = await ingest.submissions.create(SEED_SUBMITTER, {
    title: def.title, description: def.description, keywords: [...def.keywords], disease: def.disease,
    accessibility: def.accessibility, bioProjectAccession: def.bioProject,
    // The seed's received files carry device serials and station names: they go, as the PHI proof asks.
    deidOptions: { retainDeviceIdentity: false },
  });
  const rng = new Random(`obia-hub-images:${def.accession}:uids`);
  const uid = () => rng.uid();
  let upload = 0;
  for (const individual of planned.individuals) {
    for (const study of individual.studies) {
      for (const series of study.series) {
        // One zip per series, as a submitter uploads a folder from a workstation.
        const files = series.unit.build({
          patientId: individual.localPatientId, patientName: individual.patientName, age: individual.age,
          studyInstanceUid: study.uid, studyDate: study.date, studyDescription: study.description, studyId: study.studyId,
          seriesInstanceUid: series.uid, seriesNumber: series.seriesNumber, seriesDescription: series.unit.description,
          modality: series.modality, site: series.site, uid,
        });
        const zip = zipSync(Object.fromEntries(files.map((f, i) => [`${String(i + 1).padStart(4, '0')}.dcm`, f])), { level: 0 });
        await ingest.submissions.receive(SEED_SUBMITTER, submission.id, Readable.from([Buffer.from(zip)]), `series-${++upload}.zip`);
      }
    }
  }
  await ingest.submissions.addClinicalData(SEED_SUBMITTER, submission.id, planned.individuals.map((i) => ({
    localPatientId: i.localPatientId, sex: Sex.FEMALE, age: i.age, species: 'Homo sapiens', disease: def.disease,
    pathologicalType: i.pathologicalType, medicalHistory: i.medicalHistory, familyHistory: i.familyHistory, treatment: i.treatment,
    // The link to the patient's sequencing travels with the clinical data, as any submitter's does.
    gsaHumanAccession: i.gsaHumanAccession,
  })));
  const summary = await processToEnd(ingest, submission.id);
  if (summary.quarantined || summary.duplicates) {
    throw new Error(`seed: ${def.accession} lost files in the pipeline (${summary.quarantined} quarantined, ${summary.duplicates} duplicates): the seed's sources must all pass QC`);
  }

  const em = orm.em.fork() as EntityManager;
  const collection = await em.findOneOrFail(Collection, { id: submission.collection.id });
  const curation = new CurationService(em, SEED_CURATOR, ingest);
  const series = await em.find(Series, { collection }, { fields: ['uid'], orderBy: { id: 'asc' } });
  for (const s of series) await curation.reviewSeries(s.uid, QcVerdict.PASS, 'seed: real images from openly licensed sources, inspected when the seed was assembled (seeds/images/ATTRIBUTION.md)');
  const release = await curation.releaseCollection(collection.accession);
  if (!release.released) throw new Error(`seed: ${collection.accession} could not be released: ${release.blockers.map((b) => b.message).join('; ')}`);
  // What was received (identifiable bytes) is of no further use once everything is archived.
  await ingest.submissions.discardStaged(SEED_CURATOR, submission.id);
  return summary;
}

/**
 * Waits until the submission has no file left in the pipeline: process() may settle when the
 * run ends or when it has started; either way the pipeline's progress events say when counts change.
 */
async function processToEnd(ingest: Ingest, submissionId: number): Promise<ProcessSummary> {
  const run = ingest.pipeline.process(submissionId);
  let summary = await run;
  while (summary.pending > 0) {
    await new Promise<void>((resolve) => {
      const onProgress = (id: number) => { if (Number(id) === submissionId) { ingest.pipeline.events.off('progress', onProgress); resolve(); } };
      ingest.pipeline.events.on('progress', onProgress);
    });
    summary = await ingest.pipeline.summary(submissionId);
  }
  return summary;
}

/** Seeds only an empty archive (no collection yet): `npm start` calls this on every start. */
export async function seedImagesIfEmpty(orm: MikroORM, ingest: Ingest, log: (m: string) => void): Promise<ImageSeedSummary | null> {
  if ((await (orm.em.fork() as EntityManager).count(Collection, {})) > 0) return null;
  const seeded = await seedImageArchive(orm, ingest, { log });
  log(`seeded ${seeded.collections} collections, ${seeded.individuals} individuals, ${seeded.studies} studies, ${seeded.series} series and ${seeded.images} images, every one a real DICOM file, in ${seeded.seconds.toFixed(1)} s`);
  return seeded;
}
