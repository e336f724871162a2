// A small real archive for the DICOMweb tests: CT images submitted, de-identified, reviewed and
// released through the same API a submitter and a curator use, so every file served is one the
// pipeline stored.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { Role } from '../../src/auth/Principal.js';
import type { Config } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';
import { processToEnd } from '../support/kit.js';

export interface ReleasedStudy { accession: string; studyUid: string; individual: string; series: { uid: string; modality: string; instances: string[] }[] }
export interface Archive {
  app: TestApp;
  curator: string;
  submitter: string;
  researcher: string;
  open: { collection: string; studies: ReleasedStudy[] };
  controlled: { collection: string; studies: ReleasedStudy[] };
  stop(): Promise<void>;
}

async function ok(app: TestApp, query: string, variables: Record<string, unknown>, token: string): Promise<any> {
  const res = await app.gql(query, variables, token);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data;
}

/** CT files of `shape` (studies × series × instances per patient), distinct UIDs and pixels each. */
export function ctFiles(patients: string[], shape: { studies: number; series: number; instances: number }, extra: (patient: string, study: number, series: number) => Record<string, { vr: string; Value: unknown[] }> = () => ({})): Buffer[] {
  const files: Buffer[] = [];
  for (const patientId of patients) {
    for (let s = 0; s < shape.studies; s++) {
      const studyUid = uid();
      for (let se = 0; se < shape.series; se++) {
        const seriesUid = uid();
        for (let i = 0; i < shape.instances; i++) {
          files.push(makeCt({ patientId, patientName: `${patientId}^Name`, studyUid, seriesUid, sopUid: uid(), instanceNumber: i + 1, size: 32, extra: extra(patientId, s, se) as any }));
        }
      }
    }
  }
  return files;
}

/** Submits `files`, processes them, passes every series and releases the collection; all must be ingested. */
export async function release(app: TestApp, submitter: string, curator: string, accessibility: 'OPEN' | 'CONTROLLED', files: Buffer[]): Promise<{ collection: string; studies: ReleasedStudy[] }> {
  const sub = await createSubmission(app, submitter, { title: `DICOMweb ${accessibility}`, accessibility });
  for (const [i, file] of files.entries()) {
    const res = await upload(app, submitter, sub.uploadUrl, file, `${i}.dcm`);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const summary = await processToEnd(app, submitter, sub.id);
  assert.equal(summary.ingested, files.length, JSON.stringify(summary));
  const data = await ok(app, `query($id: ID!) { submission(id: $id) { collection { accession } } }`, { id: String(sub.id) }, submitter);
  const collection = data.submission.collection;
  // Read back from the catalogue what the pipeline stored (de-identified UIDs, accessions).
  const knex = (app.orm.em as EntityManager).getKnex();
  const { id: collectionId } = await knex('collection').where('accession', collection.accession).first('id');
  const rows: any[] = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id').join('individual as i', 'i.id', 's.individual_id')
    .where('s.collection_id', collectionId).orderBy('st.id').orderBy('s.id').orderBy('im.instance_number')
    .select('st.accession', 'st.study_instance_uid as studyUid', 'i.accession as individual', 's.uid as seriesUid', 's.modality', 'im.uid as sopUid');
  const studies: ReleasedStudy[] = [];
  for (const r of rows) {
    let st = studies.find((x) => x.studyUid === r.studyUid);
    if (!st) studies.push(st = { accession: r.accession, studyUid: r.studyUid, individual: r.individual, series: [] });
    let se = st.series.find((x) => x.uid === r.seriesUid);
    if (!se) {
      st.series.push(se = { uid: r.seriesUid, modality: r.modality, instances: [] });
      await ok(app, `mutation($uid: String!) { reviewSeries(uid: $uid, verdict: PASS, note: "ok") { verdict } }`, { uid: r.seriesUid }, curator);
    }
    se.instances.push(r.sopUid);
  }
  const out = await ok(app, `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason } } }`, { a: collection.accession }, curator);
  assert.equal(out.releaseCollection.released, true, JSON.stringify(out.releaseCollection.blockers));
  return { collection: collection.accession, studies };
}

export async function startArchive(config: Partial<Config> = {}): Promise<Archive> {
  const app = await startTestApp({ config });
  const submitter = await app.token('dw-submitter', Role.SUBMITTER);
  const curator = await app.token('dw-curator', Role.CURATOR);
  const researcher = await app.token('dw-researcher', Role.RESEARCHER);
  const open = await release(app, submitter, curator, 'OPEN', ctFiles(['PAT-A', 'PAT-B'], { studies: 1, series: 2, instances: 3 }));
  const controlled = await release(app, submitter, curator, 'CONTROLLED', ctFiles(['PAT-C'], { studies: 1, series: 1, instances: 2 }));
  return { app, submitter, curator, researcher, open, controlled, stop: () => app.stop() };
}
