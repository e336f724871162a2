import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { PNG } from 'pngjs';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import { Collection, Image, Series, SubmissionFile } from '../../src/entities/index.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { spread } from '../../src/qc/previewRoute.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';

describe('spread', () => {
  it('takes every index of a short series and evenly spaced ones of a long one, ends included', () => {
    assert.deepEqual(spread(3, 9), [0, 1, 2]);
    assert.deepEqual(spread(17, 9), [0, 2, 4, 6, 8, 10, 12, 14, 16]);
    assert.deepEqual(spread(100, 3), [0, 50, 99]);
  });
});

describe('series previews and image thumbnails over HTTP', () => {
  let app: TestApp;
  let curator: string, researcher: string;
  let seriesUid: string;
  let accession: string;

  const get = async (path: string, token: string | null) => {
    const res = await fetch(`${app.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: Buffer.from(await res.arrayBuffer()) };
  };

  before(async () => {
    app = await startTestApp();
    const submitter = await app.token('preview-submitter', Role.SUBMITTER);
    curator = await app.token('preview-curator', Role.CURATOR);
    researcher = await app.token('preview-researcher', Role.RESEARCHER);
    const sub = await createSubmission(app, submitter, { title: 'Previews' });
    const study = uid(), series = uid();
    for (let i = 1; i <= 3; i++) {
      const bytes = makeCt({ patientId: 'PV-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i, size: 96 });
      assert.equal((await upload(app, submitter, sub.uploadUrl, bytes, `${i}.dcm`)).status, 201);
    }
    const result = await processToEnd(app, submitter, sub.id);
    assert.equal(result.ingested, 3);
    const em = app.orm.em.fork() as EntityManager;
    const collection = await em.findOneOrFail(Collection, { submitter: 'preview-submitter' });
    accession = collection.accession;
    seriesUid = (await em.findOneOrFail(Series, { collection: collection.id })).uid;
  });

  after(async () => app?.stop());

  it('renders a montage of the series for a curator: 2×2 tiles of 128 px, images not blank, the empty cell black', async () => {
    const res = await get(`/previews/${seriesUid}.png`, curator);
    assert.equal(res.status, 200);
    assert.equal(res.type, 'image/png');
    const png = PNG.sync.read(res.body);
    assert.deepEqual([png.width, png.height], [256, 256]);
    const tile = (tx: number, ty: number) => {
      const values: number[] = [];
      for (let y = ty * 128; y < ty * 128 + 128; y++) for (let x = tx * 128; x < tx * 128 + 128; x++) values.push(png.data[(y * png.width + x) * 4]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return { mean, distinct: new Set(values).size };
    };
    for (const [tx, ty] of [[0, 0], [1, 0], [0, 1]]) {
      const t = tile(tx, ty);
      assert.ok(t.distinct > 20, `tile ${tx},${ty} shows the gradient (${t.distinct} grey levels)`);
    }
    assert.deepEqual(tile(1, 1), { mean: 0, distinct: 1 });
    // A second request is served from the cache: byte-identical.
    assert.deepEqual((await get(`/previews/${seriesUid}.png`, curator)).body, res.body);
  });

  it('refuses unreleased previews to the public and to other users alike for absent series', async () => {
    assert.equal((await get(`/previews/${seriesUid}.png`, null)).status, 401);
    assert.equal((await get(`/previews/${seriesUid}.png`, researcher)).status, 403);
    assert.equal((await get('/previews/1.2.3.4.5.png', researcher)).status, 403);
  });

  it('exposes previewUrl and thumbnailUrl, and both serve PNGs to the public once released (open collection)', async () => {
    const em = app.orm.em.fork() as EntityManager;
    const released = await em.nativeUpdate(Collection, { accession }, { releaseState: ReleaseState.RELEASED, releasedAt: new Date() });
    assert.equal(released, 1);
    // As releaseCollection does: its reviewed series are published with it (issue 22).
    await em.nativeUpdate(Series, { uid: seriesUid }, { published: true });
    const res = await app.gql(`query($u: String!) { series(uid: $u) { previewUrl images(first: 5) { edges { node { uid thumbnailUrl } } } } }`, { u: seriesUid }, null);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data.series.previewUrl, `/previews/${seriesUid}.png`);
    const images = res.data.series.images.edges.map((e: any) => e.node);
    assert.equal(images.length, 3);
    const preview = await get(res.data.series.previewUrl, null);
    assert.equal(preview.status, 200);
    assert.match(preview.cache ?? '', /public/);
    const thumb = await get(images[0].thumbnailUrl, null);
    assert.equal(thumb.status, 200);
    const png = PNG.sync.read(thumb.body);
    assert.deepEqual([png.width, png.height], [128, 128]);
  });

  it('thumbnails made at ingest sit in the thumbnail cache; one that is lost is rendered again from the archived image', async () => {
    const cache = LocalBlobStore.thumbnailsOf(app.config);
    const em = app.orm.em.fork() as EntityManager;
    const series = await em.findOneOrFail(Series, { uid: seriesUid });
    const image = await em.findOneOrFail(Image, { series: series.id }, { orderBy: { instanceNumber: 'asc' } });
    const file = await em.findOneOrFail(SubmissionFile, { imageUid: image.uid });
    assert.ok(file.thumbnailSha256, 'ingest made a thumbnail');
    const cached = fs.readFileSync(cache.pathIn(cache.primaryRoot, file.thumbnailSha256));
    const served = await get(`/thumbnails/${image.uid}.png`, null);
    assert.deepEqual(served.body, cached, 'the cached thumbnail is what is served');

    fs.rmSync(cache.primaryRoot, { recursive: true, force: true });
    const again = await get(`/thumbnails/${image.uid}.png`, null);
    assert.equal(again.status, 200);
    const png = PNG.sync.read(again.body);
    assert.deepEqual([png.width, png.height], [128, 128]);
    assert.ok(new Set(png.data.filter((_, i) => i % 4 === 0)).size > 20, 'rendered from the pixels, not a blank placeholder');
  });
});
