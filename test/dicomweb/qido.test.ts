import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startArchive, type Archive } from './archive.js';

async function qido(a: Archive, path: string, token?: string | null, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${a.app.url}/dicom-web${path}`, { headers: { accept: 'application/dicom+json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const value = (m: any, tag: string) => m[tag]?.Value?.[0];
const values = (list: any[], tag: string) => list.map((m) => value(m, tag)).sort();

describe('QIDO-RS answers what browse shows, at every level', () => {
  let a: Archive;
  before(async () => { a = await startArchive(); });
  after(async () => { await a?.stop(); });

  it('lists the released studies with the archive identifiers in the standard attributes', async () => {
    const res = await qido(a, '/studies');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 3);
    const study = a.open.studies[0]!;
    const m = res.body.find((x: any) => value(x, '0020000D') === study.studyUid);
    assert.equal(value(m, '00100020'), study.individual, 'PatientID is the Individual accession');
    assert.equal(value(m, '00080050'), study.accession, 'AccessionNumber is the Study accession');
    assert.equal(value(m, '00120020'), a.open.collection, 'the collection is ClinicalTrialProtocolID');
    assert.equal(value(m, '00201206'), 2);
    assert.equal(value(m, '00201208'), 6);
    assert.deepEqual(m['00080061'].Value, ['CT']);
    assert.equal(value(m, '00081190'), `${a.app.url}/dicom-web/studies/${study.studyUid}`);
  });
});
