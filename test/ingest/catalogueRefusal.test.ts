// A file whose values the database refuses is set aside alone; a database that fails ends the run
// (the next run retries every file). The catalogue tells the two apart by the driver's exception,
// alone in its transaction (src/ingest/stages/catalogue.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConnectionException, DeadlockException, DriverException, LockWaitTimeoutException, NotNullConstraintViolationException,
  ReadOnlyException, SyntaxErrorException, TableNotFoundException, UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { Quarantine } from '../../src/ingest/stage.js';
import { refusedValues } from '../../src/ingest/stages/catalogue.js';
import { noDatabase } from '../support/once.js';

noDatabase('classifies driver exceptions built here');

const driverError = (message: string) => Object.assign(new Error(message), { code: 'X' });

describe("the catalogue's verdict on a one-file write that failed", () => {
  it("sets the file aside when the database refused its values, naming the error's class, never its message", () => {
    for (const E of [SyntaxErrorException, NotNullConstraintViolationException, DriverException]) {
      const q = refusedValues(new E(driverError("unrecognized token: \"'Smith^John\"")));
      assert.ok(q instanceof Quarantine, E.name);
      assert.equal(q.reason, 'CATALOGUE_REFUSED');
      assert.match(q.message, new RegExp(E.name));
      assert.doesNotMatch(q.message, /Smith/);
    }
  });

  it('ends the run instead when the database itself failed, and leaves a lost race and non-database errors to the pipeline', () => {
    for (const E of [ConnectionException, LockWaitTimeoutException, DeadlockException, ReadOnlyException, TableNotFoundException, UniqueConstraintViolationException]) {
      assert.equal(refusedValues(new E(driverError('the database went away'))), null, E.name);
    }
    assert.equal(refusedValues(new Error('not a driver error')), null);
    assert.equal(refusedValues(undefined), null);
  });
});
