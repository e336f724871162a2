/**
 * `npm run bench:qc`: the figures for issue 4 on this machine.
 *  - tag census update cost per de-identified file (parse + walk, and walk alone);
 *  - per-file QC checks (header only, and with the pixel decode);
 *  - thumbnail rendering per image: a 512×512 CT and the JPEG 2000 samples;
 *  - releasing a 1,000-image collection over the API (SQLite by default; OBIA_TEST_DB=mysql for MariaDB).
 */
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import fs from 'node:fs';
import path from 'node:path';
import { Role } from '../src/auth/Principal.js';
import { dcmjs, frame, type DicomDataset } from '../src/dicom/index.js';
import { deidentify, OBIA_DEFAULT_OPTIONS } from '../src/deid/index.js';
import { ReleaseState } from '../src/domain.js';
import { Series } from '../src/entities/index.js';
import { renderThumbnail } from '../src/imaging/index.js';
import { checkFile, TagCensus } from '../src/qc/index.js';
import { writePart10 } from '../test/support/dicom.js';
import { makeCollection } from '../test/support/kit.js';
import { startTestApp } from '../test/support/app.js';

const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return `median ${q(0.5).toFixed(3)} ms, p95 ${q(0.95).toFixed(3)} ms (n=${s.length})`;
}

async function time(n: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** A 512×512 16-bit CT slice with the attributes a scanner writes (about 60 elements, two private blocks). */
function ct512(n: number): Buffer {
  const size = 512;
  const px = new Int16Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const r = Math.hypot(x - 256, y - 256);
    px[y * size + x] = (r < 50 ? 1000 : r < 200 ? 40 + ((x * 7 + y * 3 + n) % 20) : -1000) + 1024;
  }
  const s = (v: string) => ({ vr: 'LO', Value: [v] });
  const ds: DicomDataset = {
    '00080005': { vr: 'CS', Value: ['ISO_IR 100'] }, '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00080018': { vr: 'UI', Value: [`1.2.826.0.1.3680043.99.1.${n}`] },
    '00080020': { vr: 'DA', Value: ['20200115'] }, '00080030': { vr: 'TM', Value: ['101500'] }, '00080050': { vr: 'SH', Value: ['ACC123'] },
    '00080060': { vr: 'CS', Value: ['CT'] }, '00080070': s('ACME'), '00080080': s('General Hospital'), '00080090': { vr: 'PN', Value: [{ Alphabetic: 'House^Gregory' }] },
    '00081030': s('CT CHEST'), '0008103E': s('AXIAL 1mm'), '00081090': s('Scanner 9000'),
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] }, '00100020': s('MRN-42'), '00100030': { vr: 'DA', Value: ['19700101'] },
    '00100040': { vr: 'CS', Value: ['F'] }, '00101010': { vr: 'AS', Value: ['052Y'] },
    '00180015': { vr: 'CS', Value: ['CHEST'] }, '00180050': { vr: 'DS', Value: ['1.0'] }, '00180060': { vr: 'DS', Value: ['120'] }, '00181000': s('SN-1'),
    '00181020': s('v1.2'), '00181150': { vr: 'IS', Value: ['500'] }, '00181151': { vr: 'IS', Value: ['200'] }, '00185100': { vr: 'CS', Value: ['HFS'] },
    '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.2.1'] }, '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.3.1'] },
    '00200010': { vr: 'SH', Value: ['1'] }, '00200011': { vr: 'IS', Value: ['2'] }, '00200013': { vr: 'IS', Value: [String(n)] },
    '00200032': { vr: 'DS', Value: ['-250', '-250', String(-n)] }, '00200037': { vr: 'DS', Value: ['1', '0', '0', '0', '1', '0'] },
    '00200052': { vr: 'UI', Value: ['1.2.826.0.1.3680043.99.4.1'] }, '00201041': { vr: 'DS', Value: [String(-n)] },
    '00280002': { vr: 'US', Value: [1] }, '00280004': { vr: 'CS', Value: ['MONOCHROME2'] }, '00280010': { vr: 'US', Value: [size] }, '00280011': { vr: 'US', Value: [size] },
    '00280030': { vr: 'DS', Value: ['0.7', '0.7'] }, '00280100': { vr: 'US', Value: [16] }, '00280101': { vr: 'US', Value: [16] }, '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [1] }, '00281050': { vr: 'DS', Value: ['40'] }, '00281051': { vr: 'DS', Value: ['400'] },
    '00281052': { vr: 'DS', Value: ['-1024'] }, '00281053': { vr: 'DS', Value: ['1'] },
    '00431010': s('GEMS_PARM_01'), '00431001': { vr: 'SS', Value: [7] }, '00431002': { vr: 'SS', Value: [12] },
    '00191010': s('GEMS_ACQU_01'), '00191023': { vr: 'DS', Value: ['0.5'] }, '00191024': { vr: 'DS', Value: ['12.3'] },
    '7FE00010': { vr: 'OW', Value: [px.buffer] },
  };
  return writePart10(ds, { '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.9.7777'] } });
}

async function censusFigures(): Promise<void> {
  const N = 500;
  const ctx = { secret: 'bench-secret-0123456789abcdef', individualAccession: 'I000001', dateOffsetDays: -400, options: OBIA_DEFAULT_OPTIONS };
  const files = Array.from({ length: N }, (_, i) => deidentify(ct512(i), ctx).output);
  const parsed = files.map((f) => dcmjs.data.DicomMessage.readFile(frame(f).canonical, { ignoreErrors: false }).dict);
  const elements = Object.keys(parsed[0]).length;
  for (const f of files.slice(0, 20)) new TagCensus().addPart10(f); // warm-up
  const withParse = new TagCensus();
  const a = await time(N, (i) => withParse.addPart10(files[i]));
  const walkOnly = new TagCensus();
  const b = await time(N, (i) => walkOnly.addDataset(parsed[i]));
  const json = JSON.stringify(withParse);
  const t0 = performance.now();
  TagCensus.fromJSON(JSON.parse(json));
  const restore = performance.now() - t0;
  console.log(`census: ${N} de-identified 512x512 CT files (${elements} top-level elements, ${(files[0].length / 1024).toFixed(0)} KiB each), ${withParse.entries().length} tags`);
  console.log(`  addPart10 (parse + walk): ${stats(a)}`);
  console.log(`  addDataset (walk only):   ${stats(b)}`);
  console.log(`  persisted JSON: ${(json.length / 1024).toFixed(1)} KiB after ${N} files; restore ${restore.toFixed(2)} ms`);
  const real = fs.readFileSync(path.join(SAMPLES, 'pydicomdata__eCT_Supplemental.dcm'));
  const e = await time(50, () => new TagCensus().addPart10(real));
  console.log(`  enhanced CT sample (2 frames, functional groups, 1 MiB): ${stats(e)}`);

  const c = await time(100, (i) => checkFile(files[i % N], { decodePixels: false }));
  const d = await time(100, (i) => checkFile(files[i % N]));
  console.log(`checkFile on the same CT files: header only ${stats(c)}; with pixel decode ${stats(d)}`);
}

async function thumbnailFigures(): Promise<void> {
  const cases: [string, Uint8Array][] = [
    ['512x512 CT, 16-bit, Explicit VR LE', ct512(1)],
    ['JPEG 2000 lossy, 1760x1760 CR (RG3_J2KI)', fs.readFileSync(path.join(SAMPLES, 'pydicomdata__RG3_J2KI.dcm'))],
    ['JPEG 2000 lossless, 640x480 RGB US (US1_J2KR)', fs.readFileSync(path.join(SAMPLES, 'pydicomdata__US1_J2KR.dcm'))],
    ['JPEG 2000 lossy, 1024x256 NM (JPEG2000)', fs.readFileSync(path.join(SAMPLES, 'pydicom__JPEG2000.dcm'))],
  ];
  for (const [label, bytes] of cases) {
    for (let i = 0; i < 3; i++) await renderThumbnail(bytes); // warm the codecs (WASM compile on first use)
    const t = await time(30, () => renderThumbnail(bytes, { maxSize: 128 }));
    console.log(`thumbnail 128 px, ${label}: ${stats(t)}`);
  }
}

async function releaseFigures(): Promise<void> {
  const app = await startTestApp();
  try {
    const em = app.orm.em.fork() as EntityManager;
    const collection = await makeCollection(em, { releaseState: ReleaseState.DRAFT, submitter: 'bench-submitter' }, { individuals: 10, studies: 1, series: 2, images: 50 });
    const knex = em.getKnex();
    const [submissionId] = await knex('submission').insert({
      title: 'bench', description: '', keywords: '[]', disease: 'x', accessibility: 'OPEN', deid_options: JSON.stringify(OBIA_DEFAULT_OPTIONS),
      submitter: 'bench-submitter', state: 'PROCESSED', collection_id: collection.id, created_at: new Date(),
    });
    const images: { uid: string }[] = await knex('image as i').join('series as s', 's.id', 'i.series_id').where('s.collection_id', collection.id).select('i.uid');
    for (let i = 0; i < images.length; i += 200) {
      await knex('submission_file').insert(images.slice(i, i + 200).map((im, j) => ({
        submission_id: submissionId, original_name: `f${i + j}.dcm`, staging_path: `x/${i + j}`, size: 1000, sha256: '0'.repeat(64),
        state: 'INDEXED', image_uid: im.uid, stored_sha256: '0'.repeat(64), received_at: new Date(),
      })));
    }
    const series = await em.find(Series, { collection: collection.id });
    await knex('series_review').insert(series.slice(1).map((s) => ({ series_id: s.id, verdict: 'PASS', note: '', reviewer: 'bench', reviewed_at: new Date() })));
    const curator = await app.token('bench-curator', Role.CURATOR);
    const RELEASE = `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason count } } }`;
    const call = async () => {
      const r = await app.gql(RELEASE, { a: collection.accession }, curator);
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return r.data.releaseCollection;
    };
    for (let i = 0; i < 3; i++) await call();
    const refused = await time(20, call);
    let statements = 0;
    await knex('series_review').insert({ series_id: series[0].id, verdict: 'PASS', note: '', reviewer: 'bench', reviewed_at: new Date() });
    const t = performance.now();
    statements = await app.countQueries(async () => {
      const out = await call();
      if (!out.released) throw new Error(`not released: ${JSON.stringify(out.blockers)}`);
    });
    const allowed = performance.now() - t;
    console.log(`release of a ${images.length}-image collection (${series.length} series, ${process.env.OBIA_TEST_DB === 'mysql' ? 'MariaDB' : 'SQLite'}), over HTTP:`);
    console.log(`  refused (1 series unreviewed): ${stats(refused)}`);
    console.log(`  allowed: ${allowed.toFixed(1)} ms, ${statements} SQL statements`);
  } finally {
    await app.stop();
  }
}

async function main() {
  const only = process.argv[2];
  if (!only || only === 'census') await censusFigures();
  if (!only || only === 'thumbnails') await thumbnailFigures();
  if (!only || only === 'release') await releaseFigures();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
