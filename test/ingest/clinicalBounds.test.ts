// Clinical records a submission may hold are bounded (OBIA_MAX_CLINICAL_RECORDS): records are
// staged before any file is parsed, so without a bound one call (a 1 MB CSV is ~500,000 short
// rows) or a loop of calls made the hub hash, insert and keep any number of them. Past the bound
// the answer is QUOTA_EXCEEDED and nothing already staged is lost; concurrent calls cannot pass
// the bound together (counted under the submission's row lock).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { loadConfig } from '../../src/config.js';
import { ClinicalRecord } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, submitter } from './helpers.js';

const MAX = 50;
const ADD_CSV = `mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`;
const ADD = `mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`;

const csvOf = (ids: string[]) => `patient_id,sex,age\n${ids.map((id) => `${id},F,40`).join('\n')}\n`;
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('clinical records per submission are bounded', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp({ config: { ingest: { ...loadConfig().ingest, maxClinicalRecords: MAX } } });
    token = await submitter(app);
  });
  after(async () => app?.stop());

  const count = async (id: string) => (app.orm.em.fork() as EntityManager).count(ClinicalRecord, { submission: Number(id) });

  it('refuses one call past the bound with QUOTA_EXCEEDED, before staging anything, on both transports', async () => {
    const sub = await createSubmission(app, token);
    const csv = await app.gql(ADD_CSV, { s: sub.id, c: csvOf(ids('P', MAX + 1)) }, token);
    assert.equal(csv.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED', JSON.stringify(csv.errors ?? csv.data));
    assert.equal(csv.errors?.[0]?.extensions?.maximum, MAX);
    const list = await app.gql(ADD, { s: sub.id, r: ids('Q', MAX + 1).map((localPatientId) => ({ localPatientId })) }, token);
    assert.equal(list.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED', JSON.stringify(list.errors ?? list.data));
    assert.equal(await count(sub.id), 0);
  });

  it('counts the records already staged; replacing a staged patient is always allowed; nothing staged is lost', async () => {
    const sub = await createSubmission(app, token);
    const first = await app.gql(ADD_CSV, { s: sub.id, c: csvOf(ids('A', MAX - 5)) }, token);
    assert.equal(first.data?.addClinicalDataCsv, MAX - 5, JSON.stringify(first.errors));
    const over = await app.gql(ADD_CSV, { s: sub.id, c: csvOf(ids('B', 6)) }, token);
    assert.equal(over.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED', JSON.stringify(over.errors ?? over.data));
    assert.equal(await count(sub.id), MAX - 5, 'the refused call staged nothing and removed nothing');
    // The same patients again (a corrected sheet) and new ones up to the bound: accepted.
    const again = await app.gql(ADD_CSV, { s: sub.id, c: csvOf([...ids('A', MAX - 5), ...ids('B', 5)]) }, token);
    assert.equal(again.errors, undefined, JSON.stringify(again.errors));
    assert.equal(await count(sub.id), MAX);
    const more = await app.gql(ADD, { s: sub.id, r: [{ localPatientId: 'C-0' }] }, token);
    assert.equal(more.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED');
    const replace = await app.gql(ADD, { s: sub.id, r: [{ localPatientId: 'A-0', age: 41 }] }, token);
    assert.equal(replace.data?.addClinicalData, 1, JSON.stringify(replace.errors));
  });

  it('concurrent calls cannot pass the bound together', async () => {
    const sub = await createSubmission(app, token);
    const results = await Promise.all(Array.from({ length: 6 }, (_, k) => app.gql(ADD_CSV, { s: sub.id, c: csvOf(ids(`K${k}`, 10)) }, token)));
    const accepted = results.filter((r) => r.data?.addClinicalDataCsv === 10).length;
    assert.equal(accepted, MAX / 10);
    assert.ok(results.every((r) => r.data?.addClinicalDataCsv === 10 || r.errors?.[0]?.extensions?.code === 'QUOTA_EXCEEDED'), JSON.stringify(results.map((r) => r.errors)));
    assert.equal(await count(sub.id), MAX);
  });
});
