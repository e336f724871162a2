// WADO-RS asked what a hostile or careless client asks: each answer is a typed 4xx, never a 500,
// and no request makes the thread that answers everyone parse a stored file. One small released
// archive (a CT, a structured report without Pixel Data) serves every case here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildImage } from '../support/dicom.js';
import { uid } from '../ingest/helpers.js';
import { release, type ReleasedStudy } from './archive.js';

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
    const files = [
      buildImage({ ...common, series: uid(), sop: uid(), rows: 8, columns: 8, pixels: new Uint8Array(128).map((_, i) => i) }),
      // A Basic Text SR: an instance with no Pixel Data at all.
      buildImage({ ...common, series: uid(), sop: uid(), sopClass: '1.2.840.10008.5.1.4.1.1.88.11', modality: 'SR', pixels: null, noGeometry: true }),
    ];
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
});
