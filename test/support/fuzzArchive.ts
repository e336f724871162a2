// What the API and route fuzzers (test/api/fuzz, test/api/routeFuzz) call: a small seeded
// archive, the four kinds of caller, and real identifiers of each kind, which fuzzed arguments
// mix in so that calls get past their lookups to the code behind them.
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from './app.js';

export interface FuzzArchive {
  app: TestApp;
  /** [who, bearer token or null]. */
  callers: [string, string | null][];
  /** Real identifiers by kind: submission, collection, individual, study (accessions), series and image (UIDs). */
  ids: Record<string, string[]>;
}

export async function fuzzArchive(): Promise<FuzzArchive> {
  const app = await startTestApp({ seedScale: 0.002 });
  const callers: [string, string | null][] = [
    ['anonymous', null],
    ['researcher', await app.token('fuzz-researcher', Role.RESEARCHER)],
    ['submitter', await app.token('fuzz-submitter', Role.SUBMITTER)],
    ['curator', await app.token('fuzz-curator', Role.CURATOR)],
  ];
  const sub = await app.gql('mutation { createSubmission(input: { title: "fuzz", disease: "fuzz" }) { id } }', {}, callers[2]![1]);
  const knex = (app.orm.em.fork() as EntityManager).getKnex();
  const col = async (table: string, column: string) => (await knex(table).limit(3).pluck(column)).map(String);
  const ids = {
    submission: [String(sub.data.createSubmission.id)], collection: await col('collection', 'accession'), individual: await col('individual', 'accession'),
    study: await col('study', 'accession'), series: await col('series', 'uid'), image: await col('image', 'uid'),
  };
  return { app, callers, ids };
}
