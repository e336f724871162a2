// Regression: the guard (src/graphql/limits.ts) priced `__schema` and `__type` selections written
// inline as if their types were unknown (no list multiplier), while the very same selection in a
// fragment on __Schema was priced in full. Probe: 45 aliases of an inline whole-schema
// introspection, 1.9 KB: accepted, ~0.4 CPU-s of the hub and megabytes of answer per request; in a
// fragment the same operation was refused at 510,795 against the 250,000 budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import { guardOperation, parseLimited } from '../../src/graphql/limits.js';
import { noDatabase } from '../support/once.js';

noDatabase('prices introspection documents with the guard alone');

const SELECTION = 'types { name fields(includeDeprecated: true) { name args { name type { name kind ofType { name kind } } } type { name kind ofType { name kind } } } inputFields { name } enumValues { name } }';
const limits = loadConfig({}).limits;

async function measure(query: string) {
  return guardOperation(await buildObiaSchema(), parseLimited(query, limits), limits, {});
}

describe('the guard prices introspection written inline as written in a fragment', () => {
  it('one inline __schema costs what the same selection in a fragment costs', async () => {
    const inline = await measure(`{ __schema { ${SELECTION} } }`);
    const fragment = await measure(`{ __schema { ...S } } fragment S on __Schema { ${SELECTION} }`);
    assert.equal(inline.cost, fragment.cost);
    const type = await measure('{ __type(name: "Query") { fields { name args { name } } } }');
    assert.ok(type.cost > 100, `__type's lists are priced as lists (cost ${type.cost})`);
  });

  it('refuses 45 aliased inline whole-schema introspections as QUERY_TOO_COMPLEX', async () => {
    const query = `{ ${Array.from({ length: 45 }, (_, i) => `a${i}: __schema { ${SELECTION} }`).join(' ')} }`;
    await assert.rejects(measure(query), (err: any) => err?.extensions?.code === 'QUERY_TOO_COMPLEX');
  });

  it('still admits the introspection an IDE sends, and a small one', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    assert.ok((await measure(getIntrospectionQuery())).cost <= limits.maxComplexity);
    assert.ok((await measure('{ __schema { queryType { name } } __typename }')).cost < 100);
  });
});
