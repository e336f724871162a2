import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dcmjs } from '../../src/dicom/index.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { InstanceStore } from '../../src/dicomweb/InstanceStore.js';
import { MetadataCache } from '../../src/dicomweb/MetadataCache.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { insertRequest } from '../access/support.js';
import { startArchive, type Archive } from './archive.js';
import { dicomwebClient, statusOf } from './client.js';

function pixelData(part10: ArrayBuffer): Buffer {
  const { dict } = dcmjs.data.DicomMessage.readFile(part10);
  return Buffer.from(dict['7FE00010']!.Value![0] as ArrayBuffer);
}

async function get(a: Archive, path: string, token?: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(`${a.app.url}/dicom-web${path}`, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

const PROXY = '127.0.0.2';

/** A GET made from the proxy's address (Linux answers every 127/8 address on loopback): the body as text. */
function viaProxy(a: Archive, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${a.app.url}/dicom-web${path}`, { localAddress: PROXY, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

describe('WADO-RS: instances, metadata, frames and rendered images, with dicomweb-client', () => {
  let a: Archive;
  let root: string;
  // The reverse proxy this archive trusts (OBIA_TRUST_PROXY) is whoever connects from 127.0.0.2
  // (viaProxy below); the test's ordinary requests come from 127.0.0.1, a client like any other.
  before(async () => { a = await startArchive({ trustProxy: [PROXY] }); root = `${a.app.url}/dicom-web`; });
  after(async () => { await a?.stop(); });

  it('a viewer searches anonymously and reads series metadata with the archive identifiers and BulkDataURIs', async () => {
    const client = dicomwebClient(root);
    const studies = await client.searchForStudies();
    assert.equal(studies.length, 3);
    const study = a.open.studies[0]!;
    const series = study.series[0]!;
    const metadata = await client.retrieveSeriesMetadata({ studyInstanceUID: study.studyUid, seriesInstanceUID: series.uid });
    assert.deepEqual(metadata.map((m: any) => m['00080018'].Value[0]), series.instances);
    const m = metadata[0];
    assert.equal(m['00100020'].Value[0], study.individual);
    assert.equal(m['00080050'].Value[0], study.accession);
    assert.equal(m['0020000D'].Value[0], study.studyUid);
    assert.equal(m['00280010'].Value[0], 32);
    assert.equal(m['7FE00010'].BulkDataURI, `${root}/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[0]}/bulkdata/7FE00010`);
    assert.ok(!JSON.stringify(metadata).includes('PAT-A'), 'no submitted identifier survives');
    const one = await client.retrieveInstanceMetadata({ studyInstanceUID: study.studyUid, seriesInstanceUID: series.uid, sopInstanceUID: series.instances[1] });
    assert.equal(one.length, 1);
    assert.equal((await client.retrieveStudyMetadata({ studyInstanceUID: study.studyUid })).length, 6);
  });

  it('BulkDataURIs and RetrieveURLs follow X-Forwarded-Proto/Host from the trusted proxy, and from no one else', async () => {
    const study = a.open.studies[0]!;
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'viewer.example.org' };
    const m = JSON.parse(await viaProxy(a, `/studies/${study.studyUid}/series/${study.series[0]!.uid}/metadata`, headers))[0];
    assert.match(m['7FE00010'].BulkDataURI, /^https:\/\/viewer\.example\.org\/dicom-web\/studies\//);
    const q = JSON.parse(await viaProxy(a, '/studies', headers));
    assert.match(q[0]['00081190'].Value[0], /^https:\/\/viewer\.example\.org\/dicom-web\/studies\//);
    const spoofed = JSON.parse(await viaProxy(a, '/studies', { 'x-forwarded-host': 'evil.example/path?' }));
    assert.match(spoofed[0]['00081190'].Value[0], /^http:\/\/127\.0\.0\.1\/dicom-web\//, 'a forwarded host that is not a host is not used');
    // A client that is not the proxy writes the same headers: its answer's URLs stay on the host it reached.
    const direct = JSON.parse((await get(a, '/studies', null, headers)).body.toString());
    assert.match(direct[0]['00081190'].Value[0], new RegExp(`^http://127\\.0\\.0\\.1:${new URL(a.app.url).port}/dicom-web/studies/`));
  });

  it('retrieves instances as stored (multipart and zip) for signed-in users; frames are the stored pixel bytes', async () => {
    const knex = (a.app.orm.em as EntityManager).getKnex();
    const study = a.open.studies[1]!;
    const series = study.series[1]!;
    const ids = { studyInstanceUID: study.studyUid, seriesInstanceUID: series.uid, sopInstanceUID: series.instances[0] };
    assert.equal(await statusOf(dicomwebClient(root).retrieveInstance(ids)), 401, 'files need a signed-in user');
    const client = dicomwebClient(root, a.researcher);
    const file: ArrayBuffer = await client.retrieveInstance(ids);
    const { sha256 } = await knex('image').where('uid', series.instances[0]).first('sha256');
    assert.equal(crypto.createHash('sha256').update(Buffer.from(file)).digest('hex'), sha256);
    const all: ArrayBuffer[] = await client.retrieveSeries({ studyInstanceUID: study.studyUid, seriesInstanceUID: series.uid });
    assert.equal(all.length, 3);
    const frames: ArrayBuffer[] = await client.retrieveInstanceFrames({ ...ids, frameNumbers: [1] });
    assert.ok(Buffer.from(frames[0]!).equals(pixelData(file)), 'frame 1 is the Pixel Data as stored');
    // A viewer follows the metadata's BulkDataURI for the Pixel Data: the same bytes.
    const [meta] = await client.retrieveInstanceMetadata(ids);
    const bulk: ArrayBuffer[] = await client.retrieveBulkData({ BulkDataURI: meta['7FE00010'].BulkDataURI });
    assert.equal(bulk.length, 1);
    assert.ok(Buffer.from(bulk[0]!).equals(pixelData(file)), 'the Pixel Data bulk data is the Pixel Data as stored');
    const asStored = await get(a, `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[0]}/frames/1`, a.researcher, { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' });
    assert.equal(asStored.status, 200);
    assert.match(asStored.headers.get('content-type')!, /transfer-syntax=1\.2\.840\.10008\.1\.2\.1/);
    const zip = await get(a, `/studies/${study.studyUid}?accept=application/zip`, a.researcher);
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    assert.equal(zip.body.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004');
    assert.equal(zip.body.toString('latin1').split('PK\u0003\u0004').length - 1, 6);
  });

  it('renders frames as JPEG or PNG, fitted to the viewport and windowed as asked; thumbnails for series', async () => {
    const study = a.open.studies[0]!;
    const series = study.series[0]!;
    const path = `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[0]}`;
    const jpeg = await get(a, `${path}/rendered`, null, { accept: 'image/jpeg' });
    assert.equal(jpeg.status, 200);
    assert.deepEqual([...jpeg.body.subarray(0, 2)], [0xff, 0xd8]);
    const png = await get(a, `${path}/frames/1/rendered?viewport=16,16`, null, { accept: 'image/png' });
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual([png.body.readUInt32BE(16), png.body.readUInt32BE(20)], [16, 16]);
    const narrow = await get(a, `${path}/rendered?window=0,10`, null, { accept: 'image/png' });
    const wide = await get(a, `${path}/rendered?window=0,4000`, null, { accept: 'image/png' });
    assert.ok(!narrow.body.equals(wide.body), 'the window changes the rendering');
    const thumb = await get(a, `/studies/${study.studyUid}/series/${series.uid}/thumbnail`, null, { accept: 'image/png' });
    assert.equal(thumb.status, 200);
    assert.ok(thumb.body.readUInt32BE(16) <= 128);
    const client = dicomwebClient(root);
    const rendered = await client.retrieveInstanceRendered({ studyInstanceUID: study.studyUid, seriesInstanceUID: series.uid, sopInstanceUID: series.instances[0], mediaTypes: [{ mediaType: 'image/jpeg' }] });
    // dicomweb-client answers rendered images as a list of parts.
    const bytes = Buffer.from(Array.isArray(rendered) ? rendered[0] : rendered);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], `dicomweb-client got a JPEG (${bytes.length} bytes)`);
  });

  it('a controlled collection: metadata as browse shows it, pixels and files only with an approved request', async () => {
    const study = a.controlled.studies[0]!;
    const series = study.series[0]!;
    const path = `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[0]}`;
    assert.equal((await get(a, `${path}/metadata`)).status, 200);
    for (const part of ['/frames/1', '/rendered', '/thumbnail', '/bulkdata/7FE00010', '']) {
      assert.equal((await get(a, `${path}${part}`)).status, 401, `anonymous ${part}`);
      assert.equal((await get(a, `${path}${part}`, a.researcher)).status, 403, `researcher ${part}`);
    }
    const knex = (a.app.orm.em as EntityManager).getKnex();
    const { id } = await knex('collection').where('accession', a.controlled.collection).first('id');
    const approved = await a.app.token('dw-approved', 'researcher' as any);
    await insertRequest(a.app, id, 'dw-approved', AccessRequestState.APPROVED);
    for (const part of ['/frames/1', '/rendered', '/thumbnail', '/bulkdata/7FE00010', '']) {
      assert.equal((await get(a, `${path}${part}`, approved)).status, 200, `approved ${part}`);
    }
    const audit: any[] = await knex('audit_event').where('resource', `instance ${series.instances[0]}`).select('decision');
    assert.deepEqual([...new Set(audit.map((e) => e.decision))].sort(), ['ALLOW', 'DENY'], 'decisions on controlled pixels are audited');
  });

  it('unknown UIDs are 404, malformed frame lists 400, unavailable representations 406; the server stays up', async () => {
    const study = a.open.studies[0]!;
    const series = study.series[0]!;
    const inst = `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[0]}`;
    assert.equal((await get(a, '/studies/1.2.3.999/metadata')).status, 404);
    assert.equal((await get(a, `/studies/${study.studyUid}/series/1.2.3.999/metadata`)).status, 404);
    assert.equal((await get(a, '/studies/not-a-uid/metadata')).status, 404);
    assert.equal((await get(a, `${inst}/frames/0`, a.researcher)).status, 400);
    assert.equal((await get(a, `${inst}/frames/1,x`, a.researcher)).status, 400);
    assert.equal((await get(a, `${inst}/frames/2`, a.researcher)).status, 404);
    // A frame asked for twice, or two hundred times: refused (PS3.18 lists non-duplicate frames), not two hundred copies sent.
    assert.equal((await get(a, `${inst}/frames/1,1`, a.researcher)).status, 400);
    const repeated = await get(a, `${inst}/frames/${Array(200).fill(1).join(',')}`, a.researcher);
    assert.equal(repeated.status, 400);
    assert.ok(repeated.body.length < 1024, `the refusal is a short answer (${repeated.body.length} bytes)`);
    // A list longer than the router matches (hundreds of frames) is an address too long, not an unknown instance.
    const long = await get(a, `${inst}/frames/${Array.from({ length: 200 }, (_, i) => i + 1).join(',')}`, a.researcher);
    assert.equal(long.status, 414);
    assert.match(long.body.toString(), /URI_TOO_LONG/);
    assert.equal((await get(a, `/studies/${'1.2'.repeat(200)}/metadata`)).status, 414);
    assert.equal((await get(a, `${inst}/frames/1`, a.researcher, { accept: 'multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.50' })).status, 406);
    assert.equal((await get(a, `${inst}/rendered`, null, { accept: 'image/gif' })).status, 406);
    assert.equal((await get(a, `${inst}/rendered?viewport=0,0`)).status, 400);
    assert.equal((await get(a, `${inst}/rendered?window=abc`)).status, 400);
    assert.equal((await get(a, `${inst}/metadata`, null, { accept: 'application/dicom+xml' })).status, 406);
    assert.equal((await get(a, `${inst}/bulkdata/00100010`, a.researcher)).status, 404);
    assert.equal((await get(a, '/studies')).status, 200);
  });

  it('bulk data of a tag the metadata does not offer is 404 without reading the file (it was a whole file read and dcmjs parse per request)', async () => {
    const study = a.open.studies[0]!;
    const inst = `/studies/${study.studyUid}/series/${study.series[0]!.uid}/instances/${study.series[0]!.instances.at(-1)}`;
    const read = InstanceStore.prototype.read;
    let reads = 0;
    InstanceStore.prototype.read = function (this: InstanceStore, ...args: Parameters<typeof read>) { reads++; return read.apply(this, args); };
    try {
      assert.equal((await get(a, `${inst}/metadata`)).status, 200);
      reads = 0;
      for (const tag of ['00100010', '00191099', '00280010', 'FFFCFFFC', '7fe00011']) {
        assert.equal((await get(a, `${inst}/bulkdata/${tag}`)).status, 404, tag);
      }
      assert.equal(reads, 0, 'no file was read to answer 404 for tags the metadata does not offer as bulk data');
      const pixels = await get(a, `${inst}/bulkdata/7fe00010`);
      assert.equal(pixels.status, 200);
      assert.equal(reads, 1);
    } finally {
      InstanceStore.prototype.read = read;
    }
  });

  it('metadata is streamed: the first instance goes out before the last is made (the whole array was built first, for a client that may have gone)', async () => {
    const study = a.open.studies[0]!;
    const series = study.series[0]!;
    const json = MetadataCache.prototype.json;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let calls = 0;
    MetadataCache.prototype.json = async function (this: MetadataCache, ...args: Parameters<typeof json>) {
      if (++calls === series.instances.length) await gate;
      return json.apply(this, args);
    };
    let waited = false;
    const timer = setTimeout(() => { waited = true; release(); }, 3000);
    try {
      const res = await fetch(`${root}/studies/${study.studyUid}/series/${series.uid}/metadata`);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('}')) text += Buffer.from((await reader.read()).value!).toString();
      assert.equal(waited, false, 'the first instance arrived while the last was still being made');
      release();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString();
      assert.deepEqual(JSON.parse(text).map((m: any) => m['00080018'].Value[0]), series.instances);
    } finally {
      clearTimeout(timer);
      release();
      MetadataCache.prototype.json = json;
    }
  });

  it('frames again come from the frame index as the same bytes; a damaged metadata product is made again from the file; a file bad in every copy is STORAGE_CORRUPT', async () => {
    const knex = (a.app.orm.em as EntityManager).getKnex();
    const study = a.open.studies[1]!;
    const series = study.series[0]!;
    const frame = (sop: string) => get(a, `/studies/${study.studyUid}/series/${series.uid}/instances/${sop}/frames/1`, a.researcher, { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' });
    const once = await frame(series.instances[0]!);
    const twice = await frame(series.instances[0]!);
    assert.equal(twice.status, 200);
    const part = (r: { body: Buffer }) => r.body.subarray(r.body.indexOf('\r\n\r\n') + 4, r.body.lastIndexOf('\r\n--'));
    assert.ok(part(once).equals(part(twice)), 'a frame read through the index (a verified byte range) is the frame parsed from the file');
    assert.equal(part(once).length, 32 * 32 * 2);

    // The DICOM JSON product of one instance damaged in the derived-data cache: served from the file instead, the same attributes.
    const { metadata_sha256: productSha } = await knex('image').where('uid', series.instances[1]).first('metadata_sha256');
    assert.ok(productSha, 'ingest made the DICOM JSON product');
    const derived = LocalBlobStore.thumbnailsOf(a.app.config);
    const product = JSON.parse(fs.readFileSync(derived.pathIn(derived.primaryRoot, productSha)).toString());
    fs.writeFileSync(derived.pathIn(derived.primaryRoot, productSha), '{"damaged": tru');
    const meta = await get(a, `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[1]}/metadata`);
    assert.equal(meta.status, 200);
    const served = JSON.parse(meta.body.toString())[0];
    for (const tag of Object.keys(product)) assert.ok(tag in served, `${tag} is served from the file as the product held it`);

    // Every copy of an instance's file corrupted: an error status with the archive's code, nothing sent, the server up.
    const { sha256 } = await knex('image').where('uid', series.instances[2]).first('sha256');
    // The tests' archive keeps its blobs in the local two-root store (the default backend).
    const blobs = LocalBlobStore.fromConfig(a.app.config);
    for (const root of new Set([blobs.primaryRoot, blobs.backupRoot])) fs.writeFileSync(blobs.pathIn(root, sha256), 'not the stored bytes');
    const bad = await frame(series.instances[2]!);
    assert.equal(bad.status, 500);
    assert.equal(JSON.parse(bad.body.toString()).code, 'STORAGE_CORRUPT');
    assert.equal((await get(a, `/studies/${study.studyUid}/series/${series.uid}/instances/${series.instances[2]}`, a.researcher)).status, 500);
    assert.equal((await frame(series.instances[0]!)).status, 200);
  });
});
