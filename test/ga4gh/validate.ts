import assert from 'node:assert/strict';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as schemas from './drsSchemas.js';

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
ajv.addSchema(schemas.contentsObject);
ajv.addSchema(schemas.drsObject);

const compiled = new Map<unknown, ValidateFunction>();

/** Asserts that `body` is valid against one of the DRS 1.4 schemas (see drsSchemas.ts). */
export function assertValid(name: keyof typeof schemas, body: unknown): void {
  const schema = schemas[name] as any;
  let validate = compiled.get(schema);
  if (!validate) {
    validate = schema.$id ? ajv.getSchema(schema.$id)! : ajv.compile(schema);
    compiled.set(schema, validate);
  }
  assert.ok(validate(body), `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
}
