import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/knex';
import { allocateAccession } from '../../src/accessions.js';
import { Accessibility, ReleaseState, Sex } from '../../src/domain.js';
import { Collection, Image, Individual, Series, Study } from '../../src/entities/index.js';
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
