import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { printObiaSchema } from '../../src/graphql/schema.js';

describe('the checked-in schema', () => {
  it('is exactly what the code produces (run `npm run schema` after changing the API)', async () => {
    const file = path.resolve(process.cwd(), 'schema/obia.graphql');
    assert.equal(fs.readFileSync(file, 'utf8'), await printObiaSchema());
  });
});

describe('descriptions', () => {
  it('every public type, field, argument and enum value has one, except the ones listed before this test (schema/undescribed.txt)', async () => {
    const { undescribed } = await import('../../src/graphql/descriptions.js');
    const { buildObiaSchema } = await import('../../src/graphql/schema.js');
    const known = new Set(fs.readFileSync(path.resolve(process.cwd(), 'schema/undescribed.txt'), 'utf8').split('\n').filter(Boolean));
    const missing = undescribed(await buildObiaSchema());
    const added = missing.filter((name) => !known.has(name));
    assert.deepEqual(added, [], 'describe these (they reach clients through introspection)');
    // The list only shrinks: describing one means striking it off.
    const described = [...known].filter((name) => !missing.includes(name));
    assert.deepEqual(described, [], 'now described: remove these from schema/undescribed.txt');
  });

  it('generates the QuarantineReason enum from the pipeline\'s one vocabulary', async () => {
    const { QcReason } = await import('../../src/qc/reasons.js');
    const { buildObiaSchema } = await import('../../src/graphql/schema.js');
    const type = (await buildObiaSchema()).getType('QuarantineReason') as import('graphql').GraphQLEnumType;
    assert.deepEqual(type.getValues().map((v) => v.name).sort(), Object.values(QcReason).sort());
    for (const code of ['MISSING_SOP_INSTANCE_UID', 'PROCESSING_ERROR', 'STAGING_MISSING']) assert.ok(type.getValue(code)?.description, code);
  });
});
