// Clinical data and patient mapping: records staged by local patient ID (CSV or GraphQL)
// land on the individual; a later submission of the same patient to the collection lands
// on the same individual; another patient gets another.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Individual, PatientMapping, Study } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

describe('clinical data and patient mapping', () => {
  let app: TestApp;
  let token: string;
  before(async () => { app = await startTestApp(); token = await submitter(app); });
  after(async () => app?.stop());

  it('applies CSV records, maps returning patients to their individual, and allocates accessions', async () => {
    const sub = await createSubmission(app, token, { title: 'Clinical', disease: 'ovarian cancer', keywords: ['CT'] });
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'LOCAL-7', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'LOCAL-8', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    const csv = 'Patient ID,Sex,Age,Disease,Pathological Type,Treatment\nLOCAL-7,F,57,ovarian cancer,"serous, high grade",surgery\nLOCAL-8,M,,,,\n';
    const added = await app.gql(`mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`, { s: sub.id, c: csv }, token);
    assert.equal(added.data?.addClinicalDataCsv, 2, JSON.stringify(added.errors));
    const result = await processToEnd(app, token, sub.id);
    assert.equal(result.ingested, 2);
    assert.equal(result.unmatchedClinicalRecords, 0);
    const s = await fetchSubmission(app, token, sub.id);
    assert.match(s.collection.accession, /^OBIA\d{4}$/);
    assert.equal(s.collection.releaseState, 'DRAFT');

    const em = app.orm.em.fork() as EntityManager;
    const individuals = await em.find(Individual, { collection: { accession: s.collection.accession } }, { orderBy: { accession: 'asc' } });
    assert.equal(individuals.length, 2);
    const seven = individuals.find((i) => i.sex === 'FEMALE')!;
    assert.match(seven.accession, /^I\d{6}$/);
    assert.equal(seven.age, 57);
    assert.equal(seven.pathologicalType, 'serous, high grade');
    assert.equal(seven.treatment, 'surgery');
    const studies = await em.find(Study, { individual: seven });
    assert.equal(studies.length, 1);
    assert.match(studies[0]!.accession, /^S\d{8}$/);
    assert.equal(studies[0]!.ageAtStudy, 52);
    assert.ok(studies[0]!.studyDate && studies[0]!.studyDate < '2020-01-15', 'the study date is shifted into the past');

    // The same patient in a later submission to this collection: the same individual.
    const later = await createSubmission(app, token, { collection: s.collection.accession });
    await upload(app, token, later.uploadUrl, makeCt({ patientId: 'LOCAL-7', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    await upload(app, token, later.uploadUrl, makeCt({ patientId: 'LOCAL-9', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    await processToEnd(app, token, later.id);
    assert.equal(await em.count(Individual, { collection: { accession: s.collection.accession } }), 3);
    assert.equal(await em.count(Study, { individual: seven }), 2);
    const mappings = await em.find(PatientMapping, {});
    assert.ok(mappings.every((m) => /^[0-9a-f]{64}$/.test(m.patientKey)), 'only HMACs are kept');

    // Received bytes stay in staging until a curator discards them; submitters may not.
    const stagedFiles = () => (fs.readdirSync(app.config.stagingDir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(app.config.stagingDir, f)).isFile());
    const staged = () => stagedFiles().filter((f) => !f.endsWith('.name')).length;
    assert.equal(staged(), 4);
    assert.equal(stagedFiles().length, 8, 'each staged file has the name it was sent under beside it');
    const discard = `mutation($s: ID!) { discardStagedFiles(submission: $s) }`;
    assert.equal((await app.gql(discard, { s: sub.id }, token)).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const curator = await app.token('curator-9', Role.CURATOR);
    assert.equal((await app.gql(discard, { s: sub.id }, curator)).data?.discardStagedFiles, 2);
    assert.equal(staged(), 2);
    assert.equal(stagedFiles().length, 4, 'names go with the bytes');
    const rows = (await fetchSubmission(app, token, sub.id)).files;
    assert.equal(rows.length, 2, 'the rows stay');
    assert.deepEqual(rows.map((f: any) => f.originalName), ['uploaded file', 'uploaded file'], 'once discarded, a file is known by a neutral label');
  });

  it('links an individual to GSA-Human when the clinical CSV names its accession, and refuses a malformed one by column', async () => {
    const sub = await createSubmission(app, token, { title: 'Linked to sequencing', disease: 'ovarian cancer', keywords: ['CT'] });
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'SEQ-1', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'SEQ-2', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    const addCsv = `mutation($s: ID!, $c: String!) { addClinicalDataCsv(submission: $s, csv: $c) }`;

    const malformed = await app.gql(addCsv, { s: sub.id, c: 'patient_id,sex,GSA-Human Accession\nSEQ-1,F,HRI12\n' }, token);
    assert.equal(malformed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(malformed.errors![0]!.message, /row 2: column GSA-Human Accession must be a GSA-Human/);
    assert.doesNotMatch(malformed.errors![0]!.message, /HRI12/, 'the value is not echoed');
    const byGraphql = await app.gql(`mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`,
      { s: sub.id, r: [{ localPatientId: 'SEQ-2', gsaHumanAccession: 'PRJCA013581' }] }, token);
    assert.equal(byGraphql.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(byGraphql.errors![0]!.message, /record 1: gsaHumanAccession/);

    const csv = 'patient_id,sex,age,gsa_human_accession\nSEQ-1,F,61, hri004211 \nSEQ-2,F,48,\n';
    assert.equal((await app.gql(addCsv, { s: sub.id, c: csv }, token)).data?.addClinicalDataCsv, 2);
    assert.equal((await processToEnd(app, token, sub.id)).ingested, 2);

    const s = await fetchSubmission(app, token, sub.id);
    const res = await app.gql(`query($a: String!) { collection(accession: $a) { individuals(first: 10) { edges { node { age gsaHumanAccession } } } } }`,
      { a: s.collection.accession }, await app.token('curator-gsa', Role.CURATOR));
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const links = Object.fromEntries(res.data.collection.individuals.edges.map((e: any) => [e.node.age, e.node.gsaHumanAccession]));
    assert.deepEqual(links, { 61: 'HRI004211', 48: null }, 'the link lands on the patient it names, in canonical form; none where the cell is empty');

    // A later sheet for the same patient without the column keeps the link.
    const later = await createSubmission(app, token, { collection: s.collection.accession });
    await upload(app, token, later.uploadUrl, makeCt({ patientId: 'SEQ-1', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    assert.equal((await app.gql(addCsv, { s: later.id, c: 'patient_id,sex,age\nSEQ-1,F,62\n' }, token)).data?.addClinicalDataCsv, 1);
    await processToEnd(app, token, later.id);
    const em = app.orm.em.fork() as EntityManager;
    const seq1 = await em.findOneOrFail(Individual, { collection: { accession: s.collection.accession }, age: 62 });
    assert.equal(seq1.gsaHumanAccession, 'HRI004211');
  });
});
