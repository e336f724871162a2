// Every GraphQL operation the portal sends, validated against the schema the hub builds: a
// renamed or removed field fails here, in milliseconds, instead of as a broken page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import * as operations from '../../portal/src/api/operations.js';
import { noDatabase } from '../support/once.js';

noDatabase("validates the portal's operations against the schema");

describe('the portal\'s GraphQL operations', () => {
  let schema: GraphQLSchema;
  const documents = Object.entries(operations as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string');

  it('are all valid against the schema', async () => {
    schema ??= await buildObiaSchema();
    assert.ok(documents.length >= 25, `found ${documents.length} operations`);
    for (const [name, query] of documents) {
      const errors = validate(schema, parse(query));
      assert.deepEqual(errors.map((e) => e.message), [], name);
    }
  });

  it('ask every facet count of the browse page in one valid document, each facet without its own selection', async () => {
    schema ??= await buildObiaSchema();
    const filter = { modality: ['CT'], sex: ['FEMALE'], ageMin: 40, ageMax: 59, disease: 'ovarian', hasGsaHumanLink: true };
    const { query, variables, specs } = operations.browseFacets(filter);
    assert.deepEqual(validate(schema, parse(query)).map((e) => e.message), []);
    assert.deepEqual(variables.noModality, { sex: ['FEMALE'], ageMin: 40, ageMax: 59, disease: 'ovarian', hasGsaHumanLink: true });
    const male = specs.find((s) => s.alias === 'sex_MALE')!;
    assert.deepEqual(male.filter.sex, ['MALE']);
    assert.deepEqual(male.filter.modality, ['CT']);
    const age = specs.find((s) => s.facet === 'age' && s.value === '80+')!;
    assert.deepEqual([age.filter.ageMin, age.filter.ageMax], [80, undefined]);
  });
});
