// Hostile clinical sheets: every one is staged exactly as written or refused as BAD_USER_INPUT
// naming the row or column, never the values, and a refused sheet loses nothing already staged.
// A row with more fields than the header (an unquoted comma in free text) was accepted with its
// extra fields silently dropped, a column named twice kept only its last copy, and an age of
// "1e2" or "0x10" was read as 100 or 16.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { ClinicalRecord } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, submitter } from './helpers.js';

const ADD_CSV = `mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`;

describe('hostile clinical CSV', () => {
  let app: TestApp;
  let token: string;
  let sub: { id: string };
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
    sub = await createSubmission(app, token);
    const first = await app.gql(ADD_CSV, { s: sub.id, c: 'patient_id,disease\nKEEP-1,glioma\n' }, token);
    assert.equal(first.data?.addClinicalDataCsv, 1, JSON.stringify(first.errors));
  });
  after(async () => app?.stop());

  const records = async () => (app.orm.em.fork() as EntityManager).find(ClinicalRecord, { submission: Number(sub.id) }, { orderBy: { id: 'asc' } });
  const refused = async (csv: string, message: RegExp) => {
    const res = await app.gql(ADD_CSV, { s: sub.id, c: csv }, token);
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.errors ?? res.data));
    assert.match(res.errors[0].message, message);
    assert.doesNotMatch(res.errors[0].message, /SECRET-VALUE/, 'the message never echoes a value');
    const kept = await records();
    assert.equal(kept.filter((r) => r.disease === 'glioma').length, 1, 'the record staged before is kept');
    assert.ok(kept.every((r) => !Object.values(r).some((v) => typeof v === 'string' && v.includes('SECRET-VALUE'))), 'nothing of the refused sheet was staged');
  };

  it('reads a BOM, CRLF, quoted commas, newlines and doubled quotes as written', async () => {
    const csv = '\uFEFFpatient_id,sex,medical_history\r\nQ-1,F,"line one\r\nline two, ""quoted"""\r\n';
    const res = await app.gql(ADD_CSV, { s: sub.id, c: csv }, token);
    assert.equal(res.data?.addClinicalDataCsv, 1, JSON.stringify(res.errors));
    const r = (await records()).find((x) => x.medicalHistory?.startsWith('line one'));
    assert.equal(r?.medicalHistory, 'line one\r\nline two, "quoted"');
    assert.equal(r?.sex, 'FEMALE');
  });

  it('refuses a row with more fields than the header, naming the row', async () => {
    await refused('patient_id,disease\nP-1,ovarian cancer\nP-2,ovarian cancer, SECRET-VALUE\n', /row 3/);
  });

  it('refuses a column named twice', async () => {
    await refused('patient_id,disease,Disease\nP-1,SECRET-VALUE,x\n', /disease/i);
    await refused('patient_id,diagnosis,disease\nP-1,SECRET-VALUE,x\n', /disease|diagnosis/i);
  });

  it('refuses an age that is not plain digits', async () => {
    for (const age of ['1e2', '0x10', '4.0', '+5', '-0', 'Infinity']) await refused(`patient_id,age,disease\nP-1,${age},SECRET-VALUE\n`, /row 2: age/);
  });

  it('refuses an unterminated quote, NUL bytes, and values longer than their column', async () => {
    await refused('patient_id,disease\nP-1,"SECRET-VALUE\n', /quoted/);
    const nul = await app.gql(ADD_CSV, { s: sub.id, c: 'patient_id,disease\nP-1,SECRET-VALUE\0\n' }, token);
    assert.equal(nul.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(nul.errors ?? nul.data));
    await refused(`patient_id,disease\nP-1,SECRET-VALUE${'x'.repeat(300)}\n`, /record 1/);
    await refused(`patient_id,medical_history\nP-1,SECRET-VALUE${'é'.repeat(40_000)}\n`, /record 1/);
  });

  it('refuses a column it does not take, naming it, rather than dropping what it holds', async () => {
    await refused('patient_id,medical histroy\nP-1,SECRET-VALUE\n', /"medical histroy" is not a clinical field/);
    await refused('patient_id,sex,Patient Name\nP-1,F,SECRET-VALUE\n', /"Patient Name"/);
    await refused('patient_id,sex,\nP-1,F,SECRET-VALUE\n', /column 3 .* has no name but holds values/);
    // A trailing comma on every line names an empty column that holds nothing: taken.
    const trailing = await app.gql(ADD_CSV, { s: sub.id, c: 'patient_id,sex,\nT-1,F,\n' }, token);
    assert.equal(trailing.data?.addClinicalDataCsv, 1, JSON.stringify(trailing.errors));
  });

  it('refuses two records for one patient in one sheet, naming the rows by position', async () => {
    await refused('patient_id,disease\nP-7,glioma\n P-7 ,SECRET-VALUE\n', /record 2 is for the same patient as record 1/);
  });

  it('answers a header alone, blank rows and a sheet without a patient column plainly', async () => {
    const header = await app.gql(ADD_CSV, { s: sub.id, c: 'patient_id,sex\n\n,,\n\r\n' }, token);
    assert.equal(header.data?.addClinicalDataCsv, 0, JSON.stringify(header.errors));
    await refused('name,disease\nSECRET-VALUE,x\n', /patient_id/);
    await refused('', /empty/);
  });
});
