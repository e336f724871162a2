import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { printObiaSchema } from '../../src/graphql/schema.js';
import { noDatabase } from '../support/once.js';

noDatabase('builds the GraphQL schema from the code and compares it with schema/');

describe('the checked-in schema', () => {
  it('is exactly what the code produces (run `npm run schema` after changing the API)', async () => {
    const file = path.resolve(process.cwd(), 'schema/obia.graphql');
    assert.equal(fs.readFileSync(file, 'utf8'), await printObiaSchema());
  });
});

describe('descriptions', () => {
  it('every public type, field, argument and enum value has one (they reach clients through introspection)', async () => {
    const { undescribed } = await import('../../src/graphql/descriptions.js');
    const { buildObiaSchema } = await import('../../src/graphql/schema.js');
    assert.deepEqual(undescribed(await buildObiaSchema()), [], 'describe these: say what a client needs to know, not the name again');
  });

  it('would notice an undescribed field, argument or enum value', async () => {
    // The check itself, on a schema with one gap of each kind: a test that cannot fail is a defect.
    const { buildSchema } = await import('graphql');
    const { undescribed } = await import('../../src/graphql/descriptions.js');
    const sdl = '"""q""" type Query { """f""" f(a: Int): E  g: Int }  """e""" enum E { """x""" X Y }';
    assert.deepEqual(undescribed(buildSchema(sdl)), ['E.Y', 'Query.f(a)', 'Query.g']);
  });

  it('generates the QuarantineReason enum from the pipeline\'s one vocabulary', async () => {
    const { QcReason } = await import('../../src/qc/reasons.js');
    const { buildObiaSchema } = await import('../../src/graphql/schema.js');
    const type = (await buildObiaSchema()).getType('QuarantineReason') as import('graphql').GraphQLEnumType;
    assert.deepEqual(type.getValues().map((v) => v.name).sort(), Object.values(QcReason).sort());
    for (const code of ['MISSING_SOP_INSTANCE_UID', 'PROCESSING_ERROR', 'STAGING_MISSING']) assert.ok(type.getValue(code)?.description, code);
  });
});
