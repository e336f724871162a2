// DICOMweb side by side with a reference server: Debian's Orthanc + orthanc-dicomweb, in a
// private network namespace (bench/orthancSide.ts), loaded with the very files this archive
// stored (de-identified, so the UIDs match). The same QIDO queries must find the same objects
// with the same attribute values, metadata must hold the same attributes, and frames asked for
// as stored must be the same bytes.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { orthancMissing, startOrthanc, type OrthancHandle } from '../../bench/orthancSide.js';
import { readVerifiedBlob } from '../../src/access/blobs.js';
import { parseMultipart } from '../../src/dicomweb/multipart.js';
import { ctFiles, release, startArchive, type Archive } from './archive.js';

const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
/** Compressed samples (one per encoding), so frames "as stored" are compared for more than native pixels. */
const COMPRESSED = ['pydicom__MR_small_jpeg_ls_lossless.dcm', 'pydicom__JPGExtended.dcm', 'pydicomdata__JPEG-LL.dcm', 'pydicom__JPEG2000.dcm'];

/**
 * Attributes the two sides legitimately answer differently, and why. Everything else a side
 * answers with a value must be answered by the other with the same value.
 */
export const QIDO_DIFFERENCES: Record<string, string> = {
  '00080005': 'SpecificCharacterSet: the archive answers from its (UTF-8) catalogue, ISO_IR 192; Orthanc repeats the stored file\'s',
  '00081190': 'RetrieveURL: each server names its own service root',
  '00083002': 'AvailableTransferSyntaxUID: the archive says how each instance is held; Orthanc does not return it',
  '00120020': 'ClinicalTrialProtocolID: the archive answers the collection accession (filterable) for every study',
  '00080056': 'InstanceAvailability: Orthanc adds ONLINE; the archive holds every instance online and does not say it',
  '00080050': 'AccessionNumber: the archive answers the Study accession; the de-identified file holds none (Orthanc answers it empty)',
  '00200010': 'StudyID: the archive answers the Study accession; the de-identified file holds none',
  '00080030': 'StudyTime: the catalogue keeps the (shifted) study date, not the time; the archive answers it empty',
  '00100040': 'PatientSex: the archive answers the Individual\'s sex from its clinical record (none when not recorded); Orthanc the file\'s',
};
/** Metadata: the stored file's attributes on both sides, plus what the archive adds from its catalogue. */
export const METADATA_DIFFERENCES: Record<string, string> = {
  '00081190': QIDO_DIFFERENCES['00081190']!,
  '00083002': QIDO_DIFFERENCES['00083002']!,
  '00120020': QIDO_DIFFERENCES['00120020']!,
  '00080050': QIDO_DIFFERENCES['00080050']!,
  '00200010': QIDO_DIFFERENCES['00200010']!,
};

/** Uncompressed transfer syntaxes (Implicit/Explicit VR Little Endian). */
const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

type Json = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }>;

const first = (m: Json, tag: string) => m[tag]?.Value?.[0] as string | undefined;

/** A value as compared: numbers and numeric strings alike (IS/DS), person names by their alphabetic form, strings trimmed. */
function norm(values: unknown[] | undefined): string | undefined {
  if (!values || values.length === 0 || values.every((v) => v === null || v === '')) return undefined;
  return JSON.stringify(values.map((v) => {
    if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: string }).Alphabetic).trim();
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim()) ? String(Number(v)) : v.trim();
    return v;
  }));
}

describe('DICOMweb side by side with Orthanc + orthanc-dicomweb on the same stored files', { skip: orthancMissing() ?? false }, () => {
  let a: Archive;
  let orthanc: OrthancHandle;
  let stored: { sop: string; study: string; series: string; ts: string }[] = [];

  before(async () => {
    a = await startArchive();
    // Compressed samples, released like any other upload (each is its own patient/study).
    await release(a.app, a.submitter, a.curator, 'OPEN', COMPRESSED.map((f) => fs.readFileSync(path.join(SAMPLES, f))));
    // Two more CT studies of another patient (descriptions are given; the profile's Clean Descriptors decides what survives).
    await release(a.app, a.submitter, a.curator, 'OPEN', ctFiles(['PAT-D'], { studies: 2, series: 1, instances: 2 }, (_p, s) => ({ '00081030': { vr: 'LO', Value: [s === 0 ? 'Chest CT' : 'Head CT'] }, '0008103E': { vr: 'LO', Value: [`Series ${s}`] } })));
    orthanc = await startOrthanc();
    const knex = (a.app.orm.em as EntityManager).getKnex();
    const rows: any[] = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id')
      .select('im.uid as sop', 'im.sha256', 'im.transfer_syntax_uid as ts', 's.uid as series', 'st.study_instance_uid as study');
    const files = await Promise.all(rows.map(async (r) => (await readVerifiedBlob(a.app.door.access.blobs, r.sha256))!));
    assert.equal(await orthanc.load(files), rows.length);
    stored = rows.map((r) => ({ sop: r.sop, study: r.study, series: r.series, ts: r.ts }));
  });
  after(async () => {
    await orthanc?.stop();
    await a?.stop();
  });

  async function ours(p: string, accept = 'application/dicom+json', token: string | null = null): Promise<{ status: number; body: Buffer; type: string }> {
    const res = await fetch(`${a.app.url}/dicom-web${p}`, { headers: { accept, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
  }
  async function theirs(p: string, accept = 'application/dicom+json'): Promise<{ status: number; body: Buffer; type: string }> {
    const res = await orthanc.request('GET', `/dicom-web${p}`, { headers: { accept } });
    return { status: res.status, body: res.body, type: String(res.headers['content-type'] ?? '') };
  }
  async function both(p: string): Promise<[Json[], Json[]]> {
    const [x, y] = await Promise.all([ours(p), theirs(p)]);
    assert.equal(x.status, 200, `ours ${p}: ${x.body.toString().slice(0, 200)}`);
    assert.equal(y.status, 200, `Orthanc ${p}: ${y.body.toString().slice(0, 200)}`);
    return [x.body.length ? JSON.parse(x.body.toString()) : [], y.body.length ? JSON.parse(y.body.toString()) : []];
  }

  const keyOf = (level: string) => (level === 'studies' ? '0020000D' : level === 'series' ? '0020000E' : '00080018');

  /** The same objects, and on every attribute both answer (less DIFFERENCES), the same values. */
  function sameAnswer(p: string, x: Json[], y: Json[], key: string): void {
    const ids = (list: Json[]) => list.map((m) => first(m, key)).sort();
    assert.deepEqual(ids(x), ids(y), `the same ${key} set for ${p}`);
    for (const m of x) {
      const o = y.find((n) => first(n, key) === first(m, key))!;
      for (const tag of new Set([...Object.keys(m), ...Object.keys(o)])) {
        if (tag in QIDO_DIFFERENCES || !(tag in m) || !(tag in o)) continue;
        assert.equal(norm(m[tag]!.Value), norm(o[tag]!.Value), `${p}: ${tag} of ${first(m, key)}`);
      }
    }
  }

  it('answers a table of QIDO queries with the same result sets and values', async () => {
    const [studies] = await both('/studies');
    assert.ok(studies.length >= 6, `studies: ${studies.length}`);
    const st = (i: number) => first(studies[i]!, '0020000D')!;
    const pid = first(studies[0]!, '00100020')!;
    const date = first(studies[0]!, '00080020')!;
    const [series] = await both('/series');
    const se = (i: number) => first(series[i]!, '0020000E')!;
    const table = [
      '/studies', '/series', '/instances',
      `/studies?PatientID=${pid}`, `/studies?PatientID=${pid.slice(0, 3)}*`, `/studies?PatientID=${pid.slice(0, -1)}?`,
      `/studies?StudyInstanceUID=${st(0)},${st(2)}`,
      `/studies?StudyDate=${date}`, `/studies?StudyDate=${date}-`, `/studies?StudyDate=-${date}`, '/studies?StudyDate=19000101-20991231',
      '/studies?ModalitiesInStudy=MR', '/studies?ModalitiesInStudy=CT',
      '/studies?includefield=00081030,00080061', '/studies?includefield=all&PatientID=*',
      `/studies/${st(0)}/series`, '/series?Modality=CT', '/series?Modality=MR', `/series?SeriesInstanceUID=${se(0)},${se(1)}`,
      `/series?StudyInstanceUID=${st(1)}`, '/series?includefield=0008103E,00081030', '/series?Modality=C?', '/series?BodyPartExamined=CHEST',
      `/studies/${st(0)}/series/${se(0)}/instances`, `/studies/${st(1)}/instances`, '/instances?InstanceNumber=2',
      `/instances?SeriesInstanceUID=${se(0)}`, `/instances?SOPInstanceUID=${stored[0]!.sop}`,
    ];
    for (const p of table) {
      const level = p.split('?')[0]!.split('/').filter(Boolean).at(-1)!;
      const [x, y] = await both(p);
      assert.ok(x.length > 0, `${p} matches something`);
      sameAnswer(p, x, y, keyOf(level));
    }
  });

  it('pages with limit and offset over the same set on both sides', async () => {
    for (const level of ['studies', 'series', 'instances']) {
      const key = keyOf(level);
      const [all] = await both(`/${level}`);
      for (const side of [ours, theirs]) {
        const seen: string[] = [];
        for (let offset = 0; offset < all.length + 3; offset += 3) {
          const res = await side(`/${level}?limit=3&offset=${offset}`);
          const page: Json[] = res.body.length ? JSON.parse(res.body.toString()) : [];
          assert.ok(page.length <= 3);
          seen.push(...page.map((m) => first(m, key)!));
        }
        assert.deepEqual([...seen].sort(), all.map((m) => first(m, key)!).sort(), `${level}: the pages partition the set (${side === ours ? 'ours' : 'Orthanc'})`);
      }
    }
  });

  it('serves series metadata with the same attributes and values (less the stated differences)', async () => {
    const seriesList = [...new Set(stored.map((s) => `${s.study}/series/${s.series}`))];
    for (const s of seriesList) {
      const [x, y] = await both(`/studies/${s}/metadata`);
      assert.equal(x.length, y.length, s);
      for (const m of x) {
        const o = y.find((n) => first(n, '00080018') === first(m, '00080018'));
        assert.ok(o, `Orthanc has ${first(m, '00080018')}`);
        const tags = (j: Json) => Object.keys(j).filter((t) => !(t in METADATA_DIFFERENCES) && t !== '7FE00010').sort();
        // Pixel Data: the archive always refers to it (PS3.18 F.2.6); orthanc-dicomweb 1.7 leaves it
        // out of the metadata of encapsulated (compressed) instances.
        const ts = stored.find((x) => x.sop === first(m, '00080018'))!.ts;
        assert.ok(m['7FE00010']?.BulkDataURI, `Pixel Data of ${ts} is referred to`);
        if (NATIVE.has(ts)) assert.ok(o['7FE00010'], `Orthanc refers to native Pixel Data (${ts})`);
        assert.deepEqual(tags(m), tags(o), `the same attributes in ${first(m, '00080018')}: ours ${tags(m).join(' ')}; Orthanc ${tags(o).join(' ')}`);
        for (const tag of tags(m)) {
          const p: Json[string] = m[tag]!;
          const q: Json[string] = o![tag]!;
          assert.equal(p.vr, q.vr, `${tag} VR`);
          if (p.Value || q.Value) {
            if (p.vr === 'SQ') assert.equal((p.Value ?? []).length, (q.Value ?? []).length, `${tag} items`);
            else assert.equal(norm(p.Value), norm(q.Value), `${first(m, '00080018')}: ${tag}`);
          } else {
            // Binary values: one side may inline what the other refers to; both hold one or neither.
            assert.equal(!!(p.BulkDataURI || p.InlineBinary), !!(q.BulkDataURI || q.InlineBinary), `${tag} binary`);
          }
        }
      }
    }
  });

  it('sends frames as stored byte for byte as Orthanc does', async () => {
    const accept = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
    const syntaxes = new Set<string>();
    for (const s of stored) {
      const p = `/studies/${s.study}/series/${s.series}/instances/${s.sop}/frames/1`;
      const [x, y] = await Promise.all([ours(p, accept, a.curator), theirs(p, accept)]);
      assert.equal(x.status, 200, `ours ${p}: ${x.body.toString().slice(0, 200)}`);
      assert.equal(y.status, 200, `Orthanc ${p}: ${y.body.toString().slice(0, 200)}`);
      const [px, py] = [parseMultipart(x.type, x.body).parts, parseMultipart(y.type, y.body).parts];
      assert.equal(px.length, 1);
      assert.equal(py.length, 1);
      assert.ok(Buffer.from(px[0]!.body).equals(Buffer.from(py[0]!.body)), `frame 1 of ${s.sop} (${s.ts}): ${px[0]!.body.length} against ${py[0]!.body.length} bytes`);
      syntaxes.add(s.ts);
    }
    assert.ok(syntaxes.size >= 4, `frames compared in ${[...syntaxes].join(', ')}`);
  });

  it('decodes compressed frames to Explicit VR Little Endian as Orthanc does', async () => {
    const evle = 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1';
    const compared: string[] = [];
    for (const s of stored.filter((x) => !NATIVE.has(x.ts))) {
      const p = `/studies/${s.study}/series/${s.series}/instances/${s.sop}/frames/1`;
      const [x, y] = await Promise.all([ours(p, evle, a.curator), theirs(p, evle)]);
      assert.equal(x.status, 200, `ours ${p} (${s.ts}): ${x.body.toString().slice(0, 200)}`);
      assert.match(x.type, /transfer-syntax=1\.2\.840\.10008\.1\.2\.1(;|$)/);
      const mine = Buffer.from(parseMultipart(x.type, x.body).parts[0]!.body);
      // Orthanc 1.10 transcodes with DCMTK, which has no JPEG 2000 codec: there it answers an error.
      if (y.status !== 200) continue;
      const theirsFrame = Buffer.from(parseMultipart(y.type, y.body).parts[0]!.body);
      assert.equal(mine.length, theirsFrame.length, `${s.ts}: ${mine.length} against ${theirsFrame.length} bytes`);
      if (s.ts === '1.2.840.10008.1.2.4.51' || s.ts === '1.2.840.10008.1.2.4.50') {
        // Lossy JPEG: decoders may round the inverse DCT differently (libjpeg-turbo against DCMTK's IJG), by a unit or two.
        const a16 = new Uint16Array(mine.buffer, mine.byteOffset, mine.length / 2), b16 = new Uint16Array(theirsFrame.buffer, theirsFrame.byteOffset, theirsFrame.length / 2);
        let worst = 0;
        for (let i = 0; i < a16.length; i++) worst = Math.max(worst, Math.abs(a16[i]! - b16[i]!));
        assert.ok(worst <= 2, `${s.ts}: samples differ by up to ${worst}`);
      } else {
        assert.ok(mine.equals(theirsFrame), `${s.ts}: lossless frames decode to the same samples`);
      }
      compared.push(s.ts);
    }
    assert.ok(compared.length >= 2, `decoded frames compared with Orthanc's in ${compared.join(', ')}`);
    // Decoding is bounded per request: more frames than that in one request is 400 with the reason, the server up.
    const s = stored.find((x) => !NATIVE.has(x.ts))!;
    const many = await ours(`/studies/${s.study}/series/${s.series}/instances/${s.sop}/frames/${Array(101).fill(1).join(',')}`, evle, a.curator);
    assert.equal(many.status, 400);
    assert.match(JSON.parse(many.body.toString()).error, /at most 100 frames/);
    assert.equal((await ours(`/studies/${s.study}/series/${s.series}/instances/${s.sop}/frames/1`, evle, a.curator)).status, 200);
  });
});
