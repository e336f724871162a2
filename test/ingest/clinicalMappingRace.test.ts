// Clinical data sent while the pipeline maps the same patients lands on their individuals. The
// pipeline read a patient's staged record, then created the individual; a record staged between
// the two looked for the patient's mapping before it was committed: neither applied it, and the
// individual kept no clinical data (the record stayed staged, unapplied). Both now decide under
// the submission's row lock, one after the other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { ClinicalRecord, Individual } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

const PATIENTS = 40;
const ADD = `mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`;

describe('clinical data staged while the pipeline maps its patients', () => {
  let app: TestApp;
  let token: string;
  before(async () => { app = await startTestApp(); token = await submitter(app); });
  after(async () => app?.stop());

  it('reaches every individual, whichever comes first', async () => {
    const sub = await createSubmission(app, token);
    for (let p = 0; p < PATIENTS; p++) {
      const res = await upload(app, token, sub.uploadUrl, makeCt({ patientId: `RACE-${p}`, studyUid: uid(), seriesUid: uid(), sopUid: uid() }), `p${p}.dcm`);
      assert.ok(res.status < 300, JSON.stringify(res.body));
    }
    // The run and one call per patient at once: the calls queue on the submission's lock and
    // land before, between and after the run's mappings. (On the old code this lost a patient's
    // data in about one run of five on MariaDB: a race, so a pass there proved little.)
    const [outcome, ...added] = await Promise.all([
      processToEnd(app, token, sub.id),
      ...Array.from({ length: PATIENTS }, (_, p) => app.gql(ADD, { s: sub.id, r: [{ localPatientId: `RACE-${p}`, age: 20 + p }] }, token)),
    ]);
    assert.equal(outcome.ingested, PATIENTS);
    for (const a of added) assert.equal(a.data?.addClinicalData, 1, JSON.stringify(a.errors));

    const em = app.orm.em.fork() as EntityManager;
    const s = await fetchSubmission(app, token, sub.id);
    const individuals = await em.find(Individual, { collection: { accession: s.collection.accession } });
    assert.equal(individuals.length, PATIENTS);
    const ages = individuals.map((i) => i.age).sort((a, b) => (a ?? -1) - (b ?? -1));
    const missing = individuals.filter((i) => i.age == null).length;
    assert.equal(missing, 0, `${missing} of ${PATIENTS} individuals lost their clinical data`);
    assert.deepEqual(ages, Array.from({ length: PATIENTS }, (_, p) => 20 + p));
    assert.equal(await em.count(ClinicalRecord, { submission: Number(sub.id), applied: false }), 0, 'every staged record was applied');
  });
});
