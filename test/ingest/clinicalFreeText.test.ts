// A clinical record's free text (medical history, family history, treatment) is published with
// its individual as written. Text that carries an identifier — a full date, the patient's own ID,
// a record number, an e-mail address, a telephone number — is refused by kind, never echoed, on
// both ways in (records and CSV); ordinary clinical text, years included, is kept as written.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClinicalRecord } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, submitter } from './helpers.js';

const ADD = `mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`;
const ADD_CSV = `mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`;

const IDENTIFYING: [field: string, text: string, kind: RegExp][] = [
  ['medicalHistory', 'ovarian cancer diagnosed on 2019-03-04, laparotomy', /a date with its month/],
  ['medicalHistory', 'surgery 04/03/2019 at the district hospital', /a date with its month/],
  ['treatment', 'carboplatin from 4 March 2019', /a date with its month/],
  ['treatment', 'relapse March 2021, second line', /a date with its month/],
  ['familyHistory', 'sister (birth 19650412) had breast cancer', /a date with its month/],
  ['medicalHistory', 'seen as P-0042 in clinic', /the patient's own ID/],
  ['medicalHistory', 'MRN A1234567, referred', /a record or identity number/],
  ['familyHistory', 'contact daughter jane.doe@example.org', /an e-mail address/],
  ['familyHistory', 'call husband on +44 20 7946 0958', /a telephone number/],
  ['treatment', 'trial enrolment 123-45-6789', /a social security number/],
  ['treatment', 'pharmacy ref 20458831 dispensed', /a long number/],
];

describe('clinical free text that identifies is refused', () => {
  let app: TestApp;
  let token: string;
  let submission: string;
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
    submission = (await createSubmission(app, token)).id;
  });
  after(async () => app?.stop());

  const held = () => (app.orm.em.fork() as EntityManager).find(ClinicalRecord, { submission: Number(submission) });

  it('as records and as CSV, naming the record, the field and the kind of identifier, never the text; nothing is staged', async () => {
    for (const [field, text, kind] of IDENTIFYING) {
      const res = await app.gql(ADD, { s: submission, r: [{ localPatientId: 'P-0042', sex: 'FEMALE', [field]: text }] }, token);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${text}: ${JSON.stringify(res.errors ?? res.data)}`);
      assert.match(res.errors![0].message, new RegExp(`^record 1: ${field} carries ${kind.source}`));
      assert.ok(!res.errors![0].message.includes(text), 'the text is not echoed');
    }
    const csv = await app.gql(ADD_CSV, { s: submission, c: 'patient_id,sex,medical_history\nP-0043,F,ok\nP-0044,F,"admitted 2020-11-02"\n' }, token);
    assert.equal(csv.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(csv.errors![0].message, /^record 2: medicalHistory carries a date with its month/);
    assert.equal((await held()).length, 0);
  });

  it('keeps ordinary clinical text as written, years, doses, variants and staging included', async () => {
    const text = {
      medicalHistory: 'High-grade serous carcinoma, FIGO IIIC, diagnosed in 2019; BRCA1 c.5266dupC (rs80357906); CA-125 1200 U/mL; ECOG 1',
      familyHistory: 'mother: breast cancer at 45; father: prostate cancer',
      treatment: '6 cycles of carboplatin AUC 5 and paclitaxel 175 mg/m2, 2019–2020; radiotherapy 60 Gy in 30 fractions',
    };
    const res = await app.gql(ADD, { s: submission, r: [{ localPatientId: 'P-0042', sex: 'FEMALE', ...text }] }, token);
    assert.equal(res.data?.addClinicalData, 1, JSON.stringify(res.errors));
    const [record] = await held();
    assert.deepEqual({ medicalHistory: record!.medicalHistory, familyHistory: record!.familyHistory, treatment: record!.treatment }, text);
  });
});
