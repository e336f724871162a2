import type { EntityManager } from '@mikro-orm/knex';
import { allocateAccession } from '../../src/accessions.js';
import { Accessibility, ReleaseState, Sex } from '../../src/domain.js';
import { Collection, Image, Individual, Series, Study } from '../../src/entities/index.js';

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
