// The portal shows thumbnails and series previews with the signed-in user's bearer token. An
// answer marked "public" may be kept by a shared cache (a proxy or CDN in front of the hub) even
// though the request carried Authorization (RFC 9111 §3.5), and then served to anyone: so only
// pixels anyone may see (an open collection, released, its series published) may say it. An open
// collection's unreleased work, shown to its submitter and curators, was answered "public".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import { Collection, Image, Series } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { runsOnce } from '../support/once.js';
import { createSubmission, makeCt, uid, upload } from '../ingest/helpers.js';

runsOnce('the Cache-Control a pixel route sends is decided from a row the same on either database');

describe('thumbnails and previews of unreleased work are never marked public', () => {
  let app: TestApp;
  let submitter: string, curator: string;
  let seriesUid: string, imageUid: string, accession: string;
  const get = async (path: string, token: string | null) => {
    const res = await fetch(`${app.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await res.arrayBuffer();
    return { status: res.status, cache: res.headers.get('cache-control') ?? '' };
  };

  before(async () => {
    app = await startTestApp();
    submitter = await app.token('pixcache-submitter', Role.SUBMITTER);
    curator = await app.token('pixcache-curator', Role.CURATOR);
    const sub = await createSubmission(app, submitter, { title: 'Pixel caching' });
    const bytes = makeCt({ patientId: 'PC-1', studyUid: uid(), seriesUid: uid(), sopUid: uid(), instanceNumber: 1, size: 32 });
    assert.equal((await upload(app, submitter, sub.uploadUrl, bytes, '1.dcm')).status, 201);
    assert.equal((await processToEnd(app, submitter, sub.id)).ingested, 1);
    const em = app.orm.em.fork() as EntityManager;
    const collection = await em.findOneOrFail(Collection, { submitter: 'pixcache-submitter' });
    accession = collection.accession;
    const series = await em.findOneOrFail(Series, { collection: collection.id });
    seriesUid = series.uid;
    imageUid = (await em.findOneOrFail(Image, { series: series.id })).uid;
  });
  after(async () => app?.stop());

  it('an open collection\'s unreleased thumbnail and preview, to its submitter and a curator: private, no-store', async () => {
    for (const token of [submitter, curator]) {
      for (const path of [`/thumbnails/${imageUid}.png`, `/previews/${seriesUid}.png`]) {
        const res = await get(path, token);
        assert.equal(res.status, 200, path);
        assert.equal(res.cache, 'private, no-store', path);
      }
    }
    assert.equal((await get(`/thumbnails/${imageUid}.png`, null)).status, 401);
  });

  it('released with its series published, the same pixels are public to anyone (and cacheable)', async () => {
    const em = app.orm.em.fork() as EntityManager;
    await em.nativeUpdate(Collection, { accession }, { releaseState: ReleaseState.RELEASED, releasedAt: new Date() });
    // A series in a released collection that a curator has not passed stays unreleased work.
    assert.equal((await get(`/previews/${seriesUid}.png`, curator)).cache, 'private, no-store');
    await em.nativeUpdate(Series, { uid: seriesUid }, { published: true });
    for (const path of [`/thumbnails/${imageUid}.png`, `/previews/${seriesUid}.png`]) {
      assert.match((await get(path, null)).cache, /^public, max-age=\d+$/, path);
      assert.match((await get(path, submitter)).cache, /^public/, path);
    }
  });
});
