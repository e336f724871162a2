// Regression: the guard priced each `_entities` representation by its selection only, so 27,000
// representations selecting __typename (a 1 MB body; anyone may call _entities when no gateway
// secret is set) passed at a cost of 27,000 of 250,000 and took the hub 0.6 CPU-s of lookups. Each
// representation is now a lookup priced as a root field is, plus its selection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import { guardOperation, parseLimited } from '../../src/graphql/limits.js';
import { noDatabase } from '../support/once.js';

noDatabase('prices _entities documents with the guard alone');

const limits = loadConfig({}).limits;
const measure = async (query: string, r: unknown[]) => guardOperation(await buildObiaSchema(), parseLimited(query, limits), limits, { r });

describe('_entities is priced per representation looked up', () => {
  it('refuses a 1 MB list of bare representations as QUERY_TOO_COMPLEX', async () => {
    const r = Array.from({ length: 27_000 }, (_, i) => ({ __typename: 'Image', uid: String(i) }));
    await assert.rejects(measure('query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', r), (err: any) => err?.extensions?.code === 'QUERY_TOO_COMPLEX');
  });

  it('admits what a gateway fetches: 500 representations with a selection of their fields', async () => {
    const r = Array.from({ length: 500 }, (_, i) => ({ __typename: 'Series', uid: `1.2.${i}` }));
    const stats = await measure('query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Series { uid modality anatomicalSite imageCount } ... on Collection { accession title } } }', r);
    assert.ok(stats.cost < limits.maxComplexity / 4, `cost ${stats.cost}`);
  });
});
