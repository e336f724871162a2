import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import { Image } from '../../src/entities/index.js';
import { codeToHex, hamming, hexToCode } from '../../src/retrieval/code.js';
import { decodeImage } from '../../src/retrieval/decode.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';

const VAL = path.resolve(process.cwd(), '../shared/retrieval/val');
const Q = `query($image: ImageQueryInput!, $k: Int, $filter: BrowseFilterInput) {
  similarImages(image: $image, k: $k, filter: $filter) { distance image { uid hashCode series { modality uid collection { accession } } } } }`;

function valImages(cls: string, n: number, skip = 0): Buffer[] {
  return fs.readdirSync(path.join(VAL, cls)).sort().slice(skip, skip + n).map((f) => fs.readFileSync(path.join(VAL, cls, f)));
}

/** Stores images whose codes the real model computed, as ingest would, in a collection of their own. */
async function hashedCollection(app: TestApp, images: Record<string, Buffer[]>, releaseState = ReleaseState.RELEASED) {
  const em = (app.orm.em as EntityManager).fork();
  const model = await app.hashCatalog.hashModel();
  const accessions: Record<string, string> = {};
  for (const [modality, files] of Object.entries(images)) {
    const c = await makeCollection(em, { title: `retrieval ${modality}`, releaseState, submitter: 'owner' }, { individuals: 1, studies: 1, series: 1, images: files.length, modality });
    accessions[modality] = c.accession;
    const rows = await em.fork().find(Image, { series: { collection: c } }, { orderBy: { id: 'asc' } });
    for (let i = 0; i < rows.length; i++) {
      const code = await model.hashImage(await decodeImage(files[i]!));
      rows[i]!.hashCode = codeToHex(code);
      app.hashCatalog.add(rows[i]!.id, rows[i]!.series.id, code);
    }
    await em.flush();
    await em.fork().persistAndFlush(rows);
  }
  return accessions;
}

/** POSTs a query image to /query-images (as its uploader); returns the id similarImages takes. */
async function uploadQueryImage(app: TestApp, bytes: Buffer, token?: string): Promise<string> {
  const res = await fetch(`${app.url}/query-images`, {
    method: 'POST', body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  assert.equal(res.status, 201);
  const { id, expiresAt } = (await res.json()) as { id: string; expiresAt: string };
  assert.ok(new Date(expiresAt).getTime() > Date.now());
  return id;
}

describe('similarImages', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.005 }); });
  after(async () => { await app?.stop(); });

  it('returns the exact k nearest archived images by Hamming distance, nearest first, without the query image', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const all: { uid: string; hash_code: string }[] = await knex('image').select('uid', 'hash_code').whereNotNull('hash_code');
    const query = all[17]!;
    const { data, errors } = await app.gql(Q, { image: { uid: query.uid }, k: 30 });
    assert.equal(errors, undefined);
    const hits = data.similarImages;
    assert.equal(hits.length, 30);
    const q = hexToCode(query.hash_code);
    const expected = all.filter((r) => r.uid !== query.uid).map((r) => hamming(q, hexToCode(r.hash_code))).sort((a, b) => a - b).slice(0, 30);
    assert.deepEqual(hits.map((h: any) => h.distance), expected);
    for (const h of hits) assert.equal(h.distance, hamming(q, hexToCode(h.image.hashCode)));
    assert.ok(!hits.some((h: any) => h.image.uid === query.uid));
  });

  it('honours browse filters', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const { uid } = await knex('image').first('uid');
    const { data } = await app.gql(Q, { image: { uid }, k: 50, filter: { modality: ['MR'], collection: ['OBIA0003'] } });
    assert.ok(data.similarImages.length > 0);
    for (const h of data.similarImages) {
      assert.equal(h.image.series.modality, 'MR');
      assert.equal(h.image.series.collection.accession, 'OBIA0003');
    }
  });

  it('finds chest X-rays for an uploaded chest X-ray, through the real model', async () => {
    const accessions = await hashedCollection(app, { DX: valImages('CXR', 15), CT: valImages('HeadCT', 15) });
    const upload = await uploadQueryImage(app, valImages('CXR', 1, 100)[0]!);
    const { data, errors } = await app.gql(Q, { image: { upload }, k: 10, filter: { collection: Object.values(accessions) } });
    assert.equal(errors, undefined);
    assert.equal(data.similarImages.length, 10);
    const chest = data.similarImages.filter((h: any) => h.image.series.modality === 'DX').length;
    assert.ok(chest >= 9, `expected chest X-rays nearest, got ${chest}/10`);
  });

  it('never returns images the viewer may not browse', async () => {
    const files = valImages('BreastMRI', 5);
    const accessions = await hashedCollection(app, { MR: files }, ReleaseState.DRAFT);
    const filter = { collection: [accessions.MR] };
    const anonymous = await app.gql(Q, { image: { upload: await uploadQueryImage(app, files[0]!) }, k: 5, filter });
    assert.deepEqual(anonymous.data.similarImages, []);
    const cora = await app.token('cora', Role.CURATOR);
    const curator = await app.gql(Q, { image: { upload: await uploadQueryImage(app, files[0]!, cora) }, k: 5, filter }, cora);
    assert.equal(curator.data.similarImages.length, 5);
    assert.equal(curator.data.similarImages[0].distance, 0, 'the identical stored image is nearest');
  });

  it('refuses bad queries with BAD_USER_INPUT and keeps serving', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const { uid } = await knex('image').first('uid');
    const cases: [string, Record<string, unknown>][] = [
      ['k = 0', { image: { uid }, k: 0 }],
      ['k > 1000', { image: { uid }, k: 1001 }],
      ['neither uid nor upload', { image: {} }],
      ['both uid and upload', { image: { uid, base64: 'AAAA' } }],
      ['not base64', { image: { base64: '%%% not base64 %%%' } }],
      ['not an image', { image: { base64: Buffer.from('hello, this is not an image at all').toString('base64') } }],
      ['corrupt PNG', { image: { base64: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 7)]).toString('base64') } }],
      ['an upload id never issued', { image: { upload: 'no-such-upload' } }],
      ['an oversized upload id', { image: { upload: 'x'.repeat(100_000) } }],
      ['unknown uid', { image: { uid: '1.2.3.4.5' } }],
    ];
    for (const [name, variables] of cases) {
      const res = await app.gql(Q, variables);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${name}: ${JSON.stringify(res.errors)}`);
    }
    // Images no longer ride in the JSON body: anything past its 1 MB limit is refused unread.
    const huge = await app.gql(Q, { image: { base64: 'A'.repeat(27 * 1024 * 1024) } });
    assert.equal(huge.status, 413);
    assert.equal(huge.errors?.[0]?.extensions?.code, 'PAYLOAD_TOO_LARGE');
    const notImage = await fetch(`${app.url}/query-images`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'not an image' });
    assert.equal(notImage.status, 400);
    assert.equal(((await notImage.json()) as any).code, 'BAD_USER_INPUT');
    const tooBig = await fetch(`${app.url}/query-images`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: new Uint8Array(21 * 1024 * 1024) });
    assert.equal(tooBig.status, 413);
    const again = await app.gql(Q, { image: { uid }, k: 3 });
    assert.equal(again.data.similarImages.length, 3);
  });
});
