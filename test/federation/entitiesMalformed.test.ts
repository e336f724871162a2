// Regression: `_entities` with a representation whose __typename is missing or names no entity
// type ("Nope", "__proto__", "Query") reached @apollo/subgraph, which threw a plain Error: the
// caller got INTERNAL_SERVER_ERROR and the log an "unexpected error" for malformed input. Now it
// is BAD_USER_INPUT naming the argument and the position, before anything is resolved.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphql } from 'graphql';
import { Role } from '../../src/auth/Principal.js';
import { buildObiaSchema } from '../../src/graphql/schema.js';
import { noDatabase } from '../support/once.js';

noDatabase('the _entities argument check runs before any representation is resolved');

const QUERY = 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
// An admin may call _entities on any transport (src/graphql/federation.ts).
const admin = { user: { id: 'root', name: null, email: null, institution: null, roles: [Role.ADMIN] } };

describe('_entities refuses malformed representations as BAD_USER_INPUT', () => {
  const cases: Record<string, unknown[]> = {
    'unknown type': [{ __typename: 'Nope', accession: 'OBIA0001' }],
    'no __typename': [{ accession: 'OBIA0001' }],
    'a prototype key': [{ __typename: '__proto__' }],
    'a type that is no entity': [{ __typename: 'Query' }],
    'a non-string __typename': [{ __typename: ['Collection'] }],
    'a scalar': ['Collection'],
    'an array': [[{ __typename: 'Collection' }]],
    'a bad one after a good one': [{ __typename: 'BioProject', accession: 'PRJCA000001' }, { __typename: 'x'.repeat(10_000) }],
  };
  for (const [name, r] of Object.entries(cases)) {
    it(name, async () => {
      const result = await graphql({ schema: await buildObiaSchema(), source: QUERY, variableValues: { r }, contextValue: admin });
      const error = result.errors?.[0];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', `${name}: ${error?.message}`);
      assert.equal(error?.extensions?.argument, 'representations');
      assert.match(error!.message, new RegExp(`representations\\[${r.length - 1}\\]`));
      assert.ok(error!.message.length < 300, 'the value is never echoed');
    });
  }

  it('still resolves a well-formed representation', async () => {
    const result = await graphql({ schema: await buildObiaSchema(), source: QUERY, variableValues: { r: [{ __typename: 'BioProject', accession: 'PRJCA000001' }] }, contextValue: admin });
    assert.equal(result.errors, undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(result.data)), { _entities: [{ __typename: 'BioProject' }] });
  });
});
