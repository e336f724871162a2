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
