// The PHI scan: files whose identifying attributes (patient, institution, physicians, dates,
// accession and study numbers, a nested sequence, a private text element, the file meta, a
// UTF-8 name) hold unique markers go through upload and the pipeline; then every byte the
// archive holds outside staging (both blob roots, keys, the SQLite file or every MariaDB row,
// the app's log) is scanned. No marker may appear; the staging area must still have them,
// which shows the scan looks at the right bytes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import type { EntityManager } from '@mikro-orm/knex';
import { dcmjs, type DicomDataset } from '../../src/dicom/index.js';
import { logger } from '../../src/log.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { TEST_DB } from '../support/database.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, uid, upload } from './helpers.js';

// The scan reads every line the archive could log, down to the finest level.
logger.level = 'trace';

const LOCAL_ID = 'MARKPID0001';
const MARKERS = [
  LOCAL_ID, 'MARKPNAME', 'MARKOPID', 'MARKINSTNAME', 'MARKINSTADDR', 'MARKREFPHYS', 'MARKACCNO', 'MARKSTID',
  'MARKOPER', 'MARKPADDR', 'MARKREQPID', 'MARKSPSID', 'MARKPRIVTEXT', 'MARKSRCAE', 'MARKPERFPHYS',
  '19230417', '19230418', '19230419', '小东',
  // Files are often named after patients: the name they were sent under is PHI too.
  'MARKFILENAME',
];

function markedCt(i: number, sourceUids: string[]): Buffer {
  const [study, series, sop] = [uid(), uid(), uid()];
  sourceUids.push(study, series, sop);
  const extra: DicomDataset = {
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080020': { vr: 'DA', Value: ['19230417'] },
    '00080022': { vr: 'DA', Value: ['19230418'] },
    '00080050': { vr: 'SH', Value: ['MARKACCNO'] },
    '00080080': { vr: 'LO', Value: ['MARKINSTNAME'] },
    '00080081': { vr: 'ST', Value: ['MARKINSTADDR'] },
    '00080090': { vr: 'PN', Value: [{ Alphabetic: 'MARKREFPHYS^Doc' }] },
    '00081050': { vr: 'PN', Value: [{ Alphabetic: 'MARKPERFPHYS^Doc' }] },
    '00081070': { vr: 'PN', Value: [{ Alphabetic: 'MARKOPER^Tech' }] },
    '00090010': { vr: 'LO', Value: ['ACME 1.1'] },
    '00091010': { vr: 'LO', Value: ['MARKPRIVTEXT'] },
    '00091011': { vr: 'DS', Value: [12.5] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: i === 0 ? '王^小东' : 'MARKPNAME^Alpha' }] },
    '00100030': { vr: 'DA', Value: ['19230419'] },
    '00101000': { vr: 'LO', Value: ['MARKOPID'] },
    '00101040': { vr: 'LO', Value: ['MARKPADDR'] },
    '00200010': { vr: 'SH', Value: ['MARKSTID'] },
    '00400275': { vr: 'SQ', Value: [{
      '00401001': { vr: 'SH', Value: ['MARKREQPID'] },
      '00400009': { vr: 'SH', Value: ['MARKSPSID'] },
    }] },
  };
  return makeCt({ patientId: LOCAL_ID, studyUid: study, seriesUid: series, sopUid: sop, instanceNumber: i + 1, extra, extraMeta: { '00020016': { vr: 'AE', Value: ['MARKSRCAE'] } } });
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

function findMarkers(bytes: Buffer, markers: string[]): string[] {
  // A latin1 encoding exists only for latin1 text: Buffer.from('小东', 'latin1') keeps the low
  // byte of each character (2 bytes here), which any binary file contains by chance.
  const isLatin1 = (m: string) => [...m].every((c) => c.charCodeAt(0) <= 0xff);
  return markers.filter((m) => bytes.includes(Buffer.from(m, 'utf8')) || (isLatin1(m) && bytes.includes(Buffer.from(m, 'latin1'))));
}

describe('no PHI outside staging', () => {
  let app: TestApp;
  const sourceUids: string[] = [];
  let files: any[];

  before(async () => {
    app = await startTestApp();
    const token = await app.token('phi-submitter', Role.SUBMITTER);
    const submission = await createSubmission(app, token, { title: 'PHI scan' });
    for (let i = 0; i < 4; i++) {
      const res = await upload(app, token, submission.uploadUrl, markedCt(i, sourceUids), `MARKFILENAME-${i}.dcm`);
      assert.equal(res.status, 201);
    }
    await app.gql(`mutation($s: ID!, $r: [ClinicalRecordInput!]!) { addClinicalData(submission: $s, records: $r) }`,
      { s: submission.id, r: [{ localPatientId: LOCAL_ID, sex: 'FEMALE', age: 61, disease: 'ovarian cancer' }] }, token);
    const result = await processToEnd(app, token, submission.id);
    assert.equal(result.ingested, 4, JSON.stringify(await fetchSubmission(app, token, submission.id)));
    files = (await fetchSubmission(app, token, submission.id)).files;
  });
  after(async () => app?.stop());

  it('the staging area holds the markers as received (the scan is not vacuous)', () => {
    const staged = Buffer.concat(filesUnder(app.config.stagingDir).map((f) => fs.readFileSync(f)));
    assert.deepEqual(findMarkers(staged, MARKERS).sort(), [...MARKERS].sort());
    for (const u of sourceUids) assert.ok(staged.includes(Buffer.from(u)));
  });

  it('the stored files and everything else on disk outside staging hold no marker nor source UID', () => {
    const staging = path.resolve(app.config.stagingDir);
    const onDisk = [...filesUnder(app.config.dataDir), ...filesUnder(app.config.backupDir)]
      .filter((f) => !path.resolve(f).startsWith(staging + path.sep));
    const blobs = onDisk.filter((f) => /[0-9a-f]{64}$/.test(f));
    assert.ok(blobs.length >= 8, `expected both copies of 4 images, found ${blobs.length} blobs`);
    for (const f of onDisk) {
      const bytes = fs.readFileSync(f);
      assert.deepEqual(findMarkers(bytes, MARKERS), [], `markers in ${path.relative(app.config.dataDir, f)}`);
      for (const u of sourceUids) assert.ok(!bytes.includes(Buffer.from(u)), `source UID in ${f}`);
    }
    // The stored files are the de-identified ones: the individual accession replaced the name.
    // Any indexed file will do; the order files are listed in is not the order they were processed.
    const stored = files.find((f: any) => f.state === 'INDEXED' && f.storedSha256);
    assert.ok(stored, 'at least one file was stored');
    const sha = stored.storedSha256 as string;
    const store = LocalBlobStore.fromConfig(app.config);
    const first = fs.readFileSync(store.pathIn(store.primaryRoot, sha));
    const ds = dcmjs.data.DicomMessage.readFile(first.buffer.slice(first.byteOffset, first.byteOffset + first.byteLength) as ArrayBuffer).dict;
    assert.match(String(ds['00100020']?.Value?.[0]), /^I\d{6}$/);
  });

  it('no database row holds a marker, the local patient ID or a source UID', async () => {
    const em = app.orm.em.fork() as EntityManager;
    const knex = em.getKnex();
    let dump = '';
    const tables: string[] = TEST_DB === 'mysql'
      ? (await knex.raw('select table_name as t from information_schema.tables where table_schema = database()'))[0].map((r: any) => r.t ?? r.TABLE_NAME)
      : (await knex.raw(`select name as t from sqlite_master where type = 'table'`)).map((r: any) => r.t);
    assert.ok(tables.includes('submission_file') && tables.includes('patient_mapping'));
    for (const t of tables) {
      const rows = await knex(t).select('*');
      dump += JSON.stringify(rows, (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
    }
    const bytes = Buffer.from(dump, 'utf8');
    assert.deepEqual(findMarkers(bytes, MARKERS), []);
    for (const u of sourceUids) assert.ok(!dump.includes(u), 'a source UID reached the database');
    assert.ok(dump.includes(files[0].imageUid), 'the dump holds the rows it should');
  });

  it('the submitter still sees the names the files were sent under, read from the staging area', () => {
    assert.deepEqual(files.map((f: any) => f.originalName).sort(), [0, 1, 2, 3].map((i) => `MARKFILENAME-${i}.dcm`));
  });

  it('the log holds no marker', () => {
    assert.deepEqual(findMarkers(Buffer.from(app.logs.join('\n')), MARKERS), []);
  });
});
