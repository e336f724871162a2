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

  it('matches single values, wildcards, UID lists and date ranges, nested under a study or series', async () => {
    const [s1, s2] = a.open.studies;
    assert.deepEqual(values((await qido(a, `/studies?PatientID=${s1!.individual}`)).body, '0020000D'), [s1!.studyUid]);
    assert.equal((await qido(a, `/studies?PatientID=${s1!.individual.slice(0, 3)}*`)).body.length, 3);
    assert.equal((await qido(a, `/studies?PatientID=${s1!.individual.slice(0, -1)}?`)).body.length >= 1, true);
    assert.deepEqual(values((await qido(a, `/studies?StudyInstanceUID=${s1!.studyUid},${s2!.studyUid}`)).body, '0020000D'), [s1!.studyUid, s2!.studyUid].sort());
    assert.deepEqual(values((await qido(a, `/studies?0020000D=${s1!.studyUid}%5C${s2!.studyUid}`)).body, '0020000D'), [s1!.studyUid, s2!.studyUid].sort());
    assert.equal((await qido(a, `/studies?AccessionNumber=${s2!.accession}`)).body.length, 1);
    assert.equal((await qido(a, `/studies?ClinicalTrialProtocolID=${a.controlled.collection}`)).body.length, 1);
    assert.equal((await qido(a, '/studies?ModalitiesInStudy=CT')).body.length, 3);
    assert.equal((await qido(a, '/studies?ModalitiesInStudy=MR')).body.length, 0);
    // The pipeline shifts dates per individual; the range covers every shift it makes.
    const dated = (await qido(a, '/studies?StudyDate=19000101-21001231')).body;
    assert.equal(dated.length, 3);
    const date = value(dated[0], '00080020');
    assert.match(date, /^\d{8}$/);
    assert.ok((await qido(a, `/studies?StudyDate=${date}`)).body.length >= 1);
    assert.ok((await qido(a, `/studies?StudyDate=-${date}`)).body.length >= 1);
    assert.equal((await qido(a, '/studies?StudyDate=21000101-')).body.length, 0);

    const series = (await qido(a, `/studies/${s1!.studyUid}/series`)).body;
    assert.deepEqual(values(series, '0020000E'), s1!.series.map((x) => x.uid).sort());
    assert.equal(value(series[0], '00080060'), 'CT');
    assert.equal(value(series[0], '00201209'), 3);
    assert.equal((await qido(a, '/series?Modality=CT&limit=100')).body.length, 5);
    const instances = (await qido(a, `/studies/${s1!.studyUid}/series/${s1!.series[0]!.uid}/instances`)).body;
    assert.deepEqual(values(instances, '00080018'), [...s1!.series[0]!.instances].sort());
    assert.equal(value(instances[0], '00280010'), 32);
    assert.equal((await qido(a, `/studies/${s1!.studyUid}/instances`)).body.length, 6);
    assert.equal((await qido(a, `/instances?SOPInstanceUID=${s1!.series[1]!.instances[2]}`)).body.length, 1);
    assert.deepEqual((await qido(a, '/studies/1.2.3.4/series')).body, [], 'an unknown study has no series');
  });

  it('fuzzymatching matches person names case-insensitively from their start', async () => {
    const name = a.open.studies[0]!.individual;
    assert.equal((await qido(a, `/studies?PatientName=${name.toLowerCase().slice(0, 4)}`)).body.length, 0, 'without fuzzy matching a name matches whole');
    assert.equal((await qido(a, `/studies?PatientName=${name.toLowerCase().slice(0, 4)}&fuzzymatching=true`)).body.length, 3);
  });

  it('includefield: repeated, comma lists (percent-encoded as OHIF sends them) and all', async () => {
    const study = a.open.studies[0]!.studyUid;
    const plain = (await qido(a, `/studies/${study}/series`)).body[0];
    assert.equal(plain['00101010'], undefined);
    const one = (await qido(a, `/studies/${study}/series?includefield=PatientAge`)).body[0];
    assert.deepEqual(one['00101010'], { vr: 'AS', Value: ['052Y'] });
    const listed = (await qido(a, `/studies?StudyInstanceUID=${study}&includefield=00081030%2C00080060&includefield=00101010`)).body[0];
    assert.ok('00081030' in listed && '00101010' in listed);
    assert.equal(value(listed, '00101010'), '052Y');
    const all = (await qido(a, `/studies/${study}/series?includefield=all`)).body[0];
    assert.ok('00101010' in all && '00200011' in all && '00180015' in all);
  });

  it('limit and offset page through a stable order; a broad query is cut at the maximum and says so', async () => {
    const all = values((await qido(a, '/series')).body, '0020000E');
    const pages = [];
    for (let offset = 0; offset < 5; offset += 2) pages.push(...(await qido(a, `/series?limit=2&offset=${offset}`)).body);
    assert.deepEqual(values(pages, '0020000E'), all);
    const cut = await qido(a, '/series?limit=2');
    assert.match(cut.headers.get('warning') ?? '', /^299 .*exceeded the maximum/);
    assert.equal((await qido(a, '/series?limit=100')).headers.get('warning'), null);
    assert.equal((await qido(a, '/instances?limit=100000')).body.length, 14, 'a limit over the maximum is lowered to it, not refused');
  });

  it('unreleased studies are answered only to their submitter and curators, like browse', async () => {
    const knex = (a.app.orm.em as any).getKnex();
    await knex('collection').where('accession', a.controlled.collection).update({ release_state: 'DRAFT' });
    try {
      assert.equal((await qido(a, '/studies')).body.length, 2);
      assert.equal((await qido(a, '/studies', a.researcher)).body.length, 2);
      assert.equal((await qido(a, '/studies', a.submitter)).body.length, 3);
      assert.equal((await qido(a, '/studies', a.curator)).body.length, 3);
      assert.equal((await qido(a, `/instances?ClinicalTrialProtocolID=${a.controlled.collection}`)).body.length, 0);
    } finally {
      await knex('collection').where('accession', a.controlled.collection).update({ release_state: 'RELEASED' });
    }
  });

  it('bad queries are 400 with a reason; unsupported attributes are ignored with a warning; other media types 406', async () => {
    for (const bad of ['limit=-1', 'limit=ten', 'offset=x', 'StudyDate=2020', 'StudyDate=20201301', 'StudyInstanceUID=abc', 'fuzzymatching=maybe', 'NotAnAttribute=1', 'includefield=Bogus', 'PatientSex=Q']) {
      const res = await qido(a, `/studies?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'BAD_USER_INPUT');
      assert.ok(res.body.error.length > 0);
    }
    const ignored = await qido(a, '/studies?OperatorsName=Smith');
    assert.equal(ignored.status, 200);
    assert.equal(ignored.body.length, 3);
    assert.match(ignored.headers.get('warning') ?? '', /00081070/);
    const xml = await qido(a, '/studies', null, { accept: 'application/dicom+xml' });
    assert.equal(xml.status, 406);
    assert.equal(xml.body.code, 'NOT_ACCEPTABLE');
    assert.equal((await qido(a, '/studies', null, { accept: 'application/json' })).status, 200);
  });
});
