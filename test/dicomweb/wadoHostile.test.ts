// WADO-RS asked what a hostile or careless client asks: each answer is a typed 4xx, never a 500,
// and no request makes the thread that answers everyone parse a stored file. One small released
// archive (a CT, a structured report without Pixel Data) serves every case here.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildImage } from '../support/dicom.js';
import { uid } from '../ingest/helpers.js';
import { release, type ReleasedStudy } from './archive.js';

// The front door's reader, as every module calls it (through src/dicom/index.ts): counted below
// on this thread, where the app under test answers its requests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reader = require('../../src/dicom/read.js') as { readDicom: (...args: unknown[]) => unknown };

describe('WADO-RS answers hostile requests with typed errors', () => {
  let app: TestApp;
  let study: ReleasedStudy;
  let root: string;
  const path = (modality: string) => {
    const se = study.series.find((s) => s.modality === modality)!;
    return { series: `/studies/${study.studyUid}/series/${se.uid}`, instance: `/studies/${study.studyUid}/series/${se.uid}/instances/${se.instances[0]}` };
  };
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${root}${p}`, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get('content-type') ?? '', body };
  };

  before(async () => {
    app = await startTestApp();
    const submitter = await app.token('hostile-submitter', Role.SUBMITTER);
    const curator = await app.token('hostile-curator', Role.CURATOR);
    const studyUid = uid();
    const common = { patientId: 'HOSTILE', patientName: 'Hostile^Patient', study: studyUid, instanceNumber: 1 };
    // A header of 200 sequence items (dcmjs reading one of 20,000 took 0.35 s; calls are counted, so a few suffice), in an MR series of its own.
    const items = { '00081115': { vr: 'SQ', Value: Array.from({ length: 200 }, (_, i) => ({ '00081155': { vr: 'UI', Value: [`1.2.826.0.1.3680043.2.1125.${i + 1}`] } })) } };
    const files = [
      buildImage({ ...common, series: uid(), sop: uid(), rows: 8, columns: 8, pixels: new Uint8Array(128).map((_, i) => i) }),
      buildImage({ ...common, series: uid(), sop: uid(), modality: 'MR', sopClass: '1.2.840.10008.5.1.4.1.1.4', rows: 8, columns: 8, pixels: new Uint8Array(128).map((_, i) => 255 - i), extra: items as any }),
    ];
    // A series of three Basic Text SRs: instances with no Pixel Data at all. Five instances in the
    // study, three of them SRs: the study's middle instance is an SR whatever order its series take.
    const srSeries = uid();
    for (let n = 1; n <= 3; n++) {
      files.push(buildImage({ ...common, series: srSeries, sop: uid(), instanceNumber: n, sopClass: '1.2.840.10008.5.1.4.1.1.88.11', modality: 'SR', pixels: null, noGeometry: true,
        extra: { '00081030': { vr: 'LO', Value: [`Report ${n}`] } } as any }));
    }
    study = (await release(app, submitter, curator, 'OPEN', files)).studies[0]!;
    root = `${app.url}/dicom-web`;
  });
  after(async () => { await app?.stop(); });

  it('pixels of an instance without Pixel Data (an SR) are 404, not 500', async () => {
    const sr = path('SR');
    const logged = app.logs.length;
    for (const p of [`${sr.instance}/rendered`, `${sr.instance}/thumbnail`, `${sr.instance}/frames/1`, `${sr.instance}/frames/1/rendered`, `${sr.series}/thumbnail`, `${sr.series}/rendered`]) {
      for (const accept of p.endsWith('/frames/1') ? ['*/*', 'multipart/related; type="application/octet-stream"; transfer-syntax=*'] : ['*/*']) {
        const res = await get(p, { accept });
        assert.equal(res.status, 404, `${p} (${accept}): ${res.status} ${res.body.toString().slice(0, 200)}`);
        assert.equal(JSON.parse(res.body.toString()).code, 'NOT_FOUND');
      }
    }
    assert.ok(!app.logs.slice(logged).some((l) => l.includes('unexpected error')), 'nothing logged as a server fault');
    assert.equal((await get(`${path('CT').instance}/frames/1`)).status, 200, 'the CT beside it serves its frame');
  });

  it('frames, rendered frames, bulk data and metadata made from the file never parse it on the thread that answers every request', async () => {
    const mr = path('MR');
    // As for an instance archived before the DICOM JSON product existed: metadata is made from its file.
    const sop = study.series.find((s) => s.modality === 'MR')!.instances[0]!;
    await (app.orm.em.fork() as EntityManager).getKnex()('image').where('uid', sop).update({ metadata_sha256: null });
    const original = reader.readDicom;
    let onThisThread = 0;
    reader.readDicom = (...args: unknown[]) => { onThisThread++; return original(...args); };
    try {
      // The first request for the instance's frames indexes it; the bulk value and the rendered frame are read from it.
      for (const p of [`${mr.instance}/metadata`, `${mr.instance}/frames/1`, `${mr.instance}/bulkdata/7FE00010`, `${mr.instance}/frames/1/rendered`, `${mr.instance}/frames/2/rendered`, `${mr.instance}/bulkdata/00081115`]) {
        await get(p, { accept: '*/*' });
      }
      assert.deepEqual([(await get(`${mr.instance}/frames/1`)).status, (await get(`${mr.instance}/bulkdata/7FE00010`)).status,
        (await get(`${mr.instance}/frames/1/rendered`)).status, (await get(`${mr.instance}/frames/2/rendered`)).status], [200, 200, 200, 404]);
    } finally {
      reader.readDicom = original;
    }
    assert.equal(onThisThread, 0, 'every parse of the file ran on an imaging worker');
    const [meta] = JSON.parse((await get(`${mr.instance}/metadata`)).body.toString());
    assert.equal(meta['00080018'].Value[0], sop);
    assert.match(meta['7FE00010'].BulkDataURI, /\/bulkdata\/7FE00010$/);
    const pixels = (await get(`${mr.instance}/bulkdata/7FE00010`)).body;
    assert.ok(pixels.includes(Buffer.from(new Uint8Array(128).map((_, i) => 255 - i))), 'the bulk value is the stored pixels');
  });

  it('frames are sent only in a media type the request accepts: image/jpeg of a natively stored CT is 406, not octet-stream under a 200', async () => {
    const ct = `${path('CT').instance}/frames/1`;
    const jpeg = await get(ct, { accept: 'multipart/related; type="image/jpeg"' });
    assert.equal(jpeg.status, 406, `${jpeg.status} ${jpeg.type}`);
    assert.equal(JSON.parse(jpeg.body.toString()).code, 'NOT_ACCEPTABLE');
    assert.equal((await get(ct, { accept: 'multipart/related; type="image/jls"; transfer-syntax=1.2.840.10008.1.2.4.80' })).status, 406);
    // The next range the request offers is taken when the first cannot be met.
    const fallback = await get(ct, { accept: 'multipart/related; type="image/jpeg", multipart/related; type="application/octet-stream"; q=0.5' });
    assert.equal(fallback.status, 200);
    assert.match(fallback.type, /type="application\/octet-stream".*transfer-syntax=1\.2\.840\.10008\.1\.2\.1/);
    // transfer-syntax=* leaves the representation to the server: as stored, whatever type was named (OHIF asks so).
    const any = await get(ct, { accept: 'multipart/related; type="image/jls"; transfer-syntax=*' });
    assert.equal(any.status, 200);
    assert.match(any.type, /type="application\/octet-stream"/);
  });

  it('bulk data asked for as a single application/octet-stream part is sent as one, not in a multipart envelope', async () => {
    const ct = path('CT').instance;
    const single = await get(`${ct}/bulkdata/7FE00010`, { accept: 'application/octet-stream' });
    assert.equal(single.status, 200);
    assert.equal(single.type, 'application/octet-stream');
    assert.deepEqual(single.body, Buffer.from(new Uint8Array(128).map((_, i) => i)), 'the stored Pixel Data, nothing around it');
    const multi = await get(`${ct}/bulkdata/7FE00010`, { accept: 'multipart/related; type="application/octet-stream"' });
    assert.match(multi.type, /^multipart\/related/);
    assert.ok(multi.body.includes(single.body));
  });

  it('a study is thumbnailed by its middle image, passing over instances without pixels (an SR in the middle was a 404)', async () => {
    for (const kind of ['thumbnail', 'rendered']) {
      const res = await get(`/studies/${study.studyUid}/${kind}`, { accept: 'image/jpeg' });
      assert.equal(res.status, 200, `${kind}: ${res.status} ${res.body.toString().slice(0, 120)}`);
      assert.equal(res.type, 'image/jpeg');
    }
    assert.equal((await get(`${path('SR').series}/thumbnail`)).status, 404, 'a series of SRs alone has nothing to show');
  });

  it('an instance asked for as a single part is sent as itself; a study or series so asked is 406, not a multipart body', async () => {
    const researcher = await app.token('hostile-researcher', Role.RESEARCHER);
    const ct = path('CT');
    const auth = { authorization: `Bearer ${researcher}` };
    for (const accept of ['application/octet-stream', 'application/dicom']) {
      const one = await get(ct.instance, { accept, ...auth });
      assert.equal(one.status, 200);
      assert.equal(one.type, accept);
      assert.equal(one.body.toString('latin1', 128, 132), 'DICM', 'the stored Part 10 file, nothing around it');
    }
    const many = await get(ct.series, { accept: 'application/octet-stream', ...auth });
    assert.equal(many.status, 406);
    assert.match((await get(ct.series, { accept: 'multipart/related; type="application/dicom"', ...auth })).type, /^multipart\/related/);
  });
});
