import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/knex';
import { Reference } from '@mikro-orm/core';
import { allocateAccession, allocateAccessionNumbers, formatAccession } from '../../src/accessions.js';
import { Accessibility, ReleaseState, Sex } from '../../src/domain.js';
import { Collection, Image, Individual, Series, Study } from '../../src/entities/index.js';
import { insertRows } from '../../src/ingest/batchWrites.js';
import type { TestApp } from './app.js';

let uidCounter = 0;
/** Unique per call and per process, so concurrently running test files never collide. */
export function testUid(): string {
  return `2.25.${process.pid}${Date.now() % 1_000_000}${++uidCounter}`;
}

export interface ShapeOptions {
  individuals?: number; studies?: number; series?: number; images?: number;
  modality?: string; anatomicalSite?: string; age?: number; sex?: Sex;
}

/**
 * A small seeding kit for tests: builds a collection with a regular shape through the ORM, with
 * real accession allocation, and returns what it made.
 */
export async function makeCollection(
  emRoot: EntityManager,
  props: Partial<Pick<Collection, 'title' | 'disease' | 'accessibility' | 'releaseState' | 'submitter' | 'keywords' | 'description'>> = {},
  shape: ShapeOptions = {},
): Promise<Collection> {
  const em = emRoot.fork();
  const collection = em.create(Collection, {
    accession: await allocateAccession(em, 'collection'),
    title: props.title ?? 'Test collection',
    description: props.description ?? '',
    keywords: props.keywords ?? [],
    disease: props.disease ?? 'test disease',
    submitter: props.submitter ?? 'test-submitter',
    accessibility: props.accessibility ?? Accessibility.OPEN,
    releaseState: props.releaseState ?? ReleaseState.RELEASED,
    createdAt: new Date(),
  });
  for (let i = 0; i < (shape.individuals ?? 1); i++) {
    const individual = em.create(Individual, {
      accession: await allocateAccession(em, 'individual'), collection,
      sex: shape.sex ?? Sex.FEMALE, age: shape.age ?? 50, species: 'Homo sapiens', disease: collection.disease,
    });
    for (let s = 0; s < (shape.studies ?? 1); s++) {
      const study = em.create(Study, {
        accession: await allocateAccession(em, 'study'), studyInstanceUid: testUid(), individual, collection,
        modalities: [shape.modality ?? 'CT'],
      });
      for (let r = 0; r < (shape.series ?? 1); r++) {
        const series = em.create(Series, {
          uid: testUid(), study, individual, collection, modality: shape.modality ?? 'CT',
          anatomicalSite: shape.anatomicalSite ?? 'CHEST', imageCount: shape.images ?? 1,
          // A released collection's series were all passed before its release (issue 22).
          published: collection.releaseState === ReleaseState.RELEASED,
        });
        for (let m = 0; m < (shape.images ?? 1); m++) {
          em.create(Image, { uid: testUid(), series, transferSyntaxUid: '1.2.840.10008.1.2.1', sha256: '0'.repeat(64), size: 1000, frames: 1 });
        }
      }
    }
  }
  await em.flush();
  return collection;
}

/**
 * The bulk seeding path: `count` collections of the same shape as makeCollection's, written with
 * multi-row inserts (a handful of statements per level, as seeds/seed.ts does) and accessions
 * reserved in one range per kind. Seeding 200 collections row by row through the unit of work
 * took over a minute on MariaDB; this takes a few statements.
 */
export async function makeCollections(
  emRoot: EntityManager,
  count: number,
  props: Partial<Pick<Collection, 'title' | 'disease' | 'accessibility' | 'releaseState' | 'submitter'>> = {},
  shape: ShapeOptions = {},
): Promise<{ id: number; accession: string }[]> {
  const em = emRoot.fork();
  const per = { individuals: shape.individuals ?? 1, studies: shape.studies ?? 1, series: shape.series ?? 1, images: shape.images ?? 1 };
  const firstCollection = await allocateAccessionNumbers(em, 'collection', count);
  const firstIndividual = await allocateAccessionNumbers(em, 'individual', count * per.individuals);
  const firstStudy = await allocateAccessionNumbers(em, 'study', count * per.individuals * per.studies);
  const modality = shape.modality ?? 'CT';
  const collections = Array.from({ length: count }, (_, i) => Object.assign(new Collection(), {
    accession: formatAccession('collection', firstCollection + i), title: props.title ?? 'Test collection', description: '', keywords: [],
    disease: props.disease ?? 'test disease', submitter: props.submitter ?? 'test-submitter',
    accessibility: props.accessibility ?? Accessibility.OPEN, releaseState: props.releaseState ?? ReleaseState.RELEASED, createdAt: new Date(),
  }));
  await insertRows(em, collections);
  const individuals = collections.flatMap((collection, c) => Array.from({ length: per.individuals }, (_, i) => Object.assign(new Individual(), {
    accession: formatAccession('individual', firstIndividual + c * per.individuals + i), collection: Reference.create(collection),
    sex: shape.sex ?? Sex.FEMALE, age: shape.age ?? 50, species: 'Homo sapiens', disease: collection.disease,
  })));
  await insertRows(em, individuals);
  const studies = individuals.flatMap((individual, n) => Array.from({ length: per.studies }, (_, s) => Object.assign(new Study(), {
    accession: formatAccession('study', firstStudy + n * per.studies + s), studyInstanceUid: testUid(),
    individual: Reference.create(individual), collection: individual.collection, modalities: [modality],
  })));
  await insertRows(em, studies);
  const series = studies.flatMap((study) => Array.from({ length: per.series }, () => Object.assign(new Series(), {
    uid: testUid(), study: Reference.create(study), individual: study.individual, collection: study.collection, modality,
    anatomicalSite: shape.anatomicalSite ?? 'CHEST', imageCount: per.images,
    // As a release does (issue 22): every series of a released collection has been passed.
    published: (study.collection.unwrap() as Collection).releaseState === ReleaseState.RELEASED,
  })));
  await insertRows(em, series);
  const images = series.flatMap((s) => Array.from({ length: per.images }, () => Object.assign(new Image(), {
    uid: testUid(), series: Reference.create(s), transferSyntaxUid: '1.2.840.10008.1.2.1', sha256: '0'.repeat(64), size: 1000, frames: 1,
  })));
  await insertRows(em, images);
  return collections.map((c) => ({ id: c.id, accession: c.accession }));
}

export interface ProcessOutcome {
  ingested: number;
  quarantined: number;
  duplicates: number;
  /** Files not in a final state. */
  pending: number;
  unmatchedClinicalRecords: number;
}

/**
 * Processes a submission to the end, as a client does: `processSubmission` starts the run and
 * answers at once (PROCESSING), then `submissionProgress` (graphql-ws) is followed until it reads
 * PROCESSED. Its first event is the current state, so a run that ended before the subscription
 * began is seen too. No sleeps, no polling.
 */
export async function processToEnd(app: TestApp, token: string, submission: string | number): Promise<ProcessOutcome> {
  const started = await app.gql(`mutation($s: ID!) { processSubmission(submission: $s) { id state } }`, { s: String(submission) }, token);
  assert.equal(started.errors, undefined, JSON.stringify(started.errors));
  // PROCESSING, or PROCESSED where it joined a run that ended in the meantime; never the state before the run.
  assert.notEqual(started.data.processSubmission.state, 'OPEN', 'processSubmission answers once the run has started');
  const client = createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  try {
    const progress = await new Promise<any>((resolve, reject) => {
      client.subscribe<any>({
        query: `subscription($s: ID!) { submissionProgress(submission: $s) { submissionId state counts { state count } unmatchedClinicalRecords } }`,
        variables: { s: String(submission) },
      }, {
        next: (event) => {
          if (event.errors) reject(new Error(JSON.stringify(event.errors)));
          else if (event.data?.submissionProgress.state === 'PROCESSED') resolve(event.data.submissionProgress);
          // OPEN again after the run started: it failed (and says so in the hub's log); waiting longer would hang.
          else if (event.data?.submissionProgress.state === 'OPEN') reject(new Error('the ingest run ended without finishing (the submission is OPEN again)'));
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => reject(new Error('submissionProgress ended before the run did')),
      });
    });
    const counts: Record<string, number> = Object.fromEntries(progress.counts.map((c: { state: string; count: number }) => [c.state, c.count]));
    const final = ['INDEXED', 'QUARANTINED', 'DUPLICATE'];
    return {
      ingested: (counts.INDEXED ?? 0) + (counts.STORED ?? 0),
      quarantined: counts.QUARANTINED ?? 0,
      duplicates: counts.DUPLICATE ?? 0,
      pending: Object.entries(counts).filter(([s]) => !final.includes(s)).reduce((n, [, c]) => n + c, 0),
      unmatchedClinicalRecords: progress.unmatchedClinicalRecords,
    };
  } finally {
    await client.dispose();
  }
}
