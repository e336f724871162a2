import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { parseRange } from '../../src/access/routes.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { startTestApp, type TestApp } from '../support/app.js';
import type { EntityManager } from '@mikro-orm/knex';
import { makeCollection } from '../support/kit.js';
import { collectionWithFiles, fetchBytes, type StoredCollection } from './support.js';
import { unzip } from '../support/zip.js';

const LINK = `mutation($t: DownloadTargetInput!) { createDownloadLink(target: $t, format: DICOM_ZIP) { url expiresAt } }`;


describe('downloads: signed links, zip with manifest, resumable single files', () => {
  let app: TestApp;
  let open: StoredCollection;
  let token: string;

  before(async () => {
    app = await startTestApp();
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'downloads' }, { individuals: 2, studies: 1, series: 2, images: 3 });
    token = await app.token('dl-user', Role.RESEARCHER);
  });
  after(async () => { await app?.stop(); });

  it('refuses anonymous callers (links are bound to a signed-in user) and ambiguous targets', async () => {
    const anon = await app.gql(LINK, { t: { collection: open.accession } });
    assert.equal(anon.errors![0].extensions.code, 'UNAUTHENTICATED');
    const two = await app.gql(LINK, { t: { collection: open.accession, study: open.studies[0] } }, token);
    assert.equal(two.errors![0].extensions.code, 'BAD_USER_INPUT');
  });

  it('streams a zip of every file of a collection, with a manifest of accessions, UIDs and sha256', async () => {
    const link = await app.gql(LINK, { t: { collection: open.accession } }, token);
    assert.equal(link.errors, undefined);
    const expiresAt = new Date(link.data.createDownloadLink.expiresAt).getTime();
    assert.ok(expiresAt > Date.now() && expiresAt <= Date.now() + 3600_000 + 5000);
    const res = await fetchBytes(link.data.createDownloadLink.url, token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const files = await unzip(res.body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.equal(manifest.files.length, open.bytes.size);
    for (const entry of manifest.files) {
      const bytes = files.get(entry.path)!;
      assert.ok(bytes, entry.path);
      assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), entry.sha256);
      assert.deepEqual(bytes, open.bytes.get(entry.sopInstanceUid));
      assert.equal(entry.collection, open.accession);
      assert.match(entry.individual, /^I\d{6}$/);
      assert.match(entry.study, /^S\d{8}$/);
      assert.ok(entry.studyInstanceUid && entry.seriesInstanceUid);
    }
    assert.equal(files.size, open.bytes.size + 1);
  });

  it('narrows to a study or a series', async () => {
    const series = await app.gql(LINK, { t: { series: open.series[0] } }, token);
    const files = await unzip((await fetchBytes(series.data.createDownloadLink.url, token)).body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.equal(manifest.files.length, 3);
    assert.ok(manifest.files.every((f: any) => f.seriesInstanceUid === open.series[0]));
    const study = await app.gql(LINK, { t: { study: open.studies[0] } }, token);
    const studyManifest = JSON.parse((await unzip((await fetchBytes(study.data.createDownloadLink.url, token)).body)).get('manifest.json')!.toString());
    assert.equal(studyManifest.files.length, 6);
  });

  it('serves single images with HTTP Range, so an interrupted download resumes', async () => {
    const link = await app.gql(LINK, { t: { series: open.series[0] } }, token);
    const base = link.data.createDownloadLink.url.replace('/archive.zip', '');
    const series0 = await unzip((await fetchBytes(link.data.createDownloadLink.url, token)).body);
    const uid = JSON.parse(series0.get('manifest.json')!.toString()).files[0].sopInstanceUid;
    const whole = open.bytes.get(uid)!;
    const full = await fetchBytes(`${base}/images/${uid}.dcm`, token);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(full.body, whole);
    const head = await fetch(`${base}/images/${uid}.dcm`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(whole.length));
    assert.equal(head.headers.get('etag'), full.headers.get('etag'));
    const first = await fetchBytes(`${base}/images/${uid}.dcm`, token, { range: 'bytes=0-999' });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get('content-range'), `bytes 0-999/${whole.length}`);
    const rest = await fetchBytes(`${base}/images/${uid}.dcm`, token, { range: 'bytes=1000-', 'if-range': full.headers.get('etag')! });
    assert.equal(rest.status, 206);
    assert.deepEqual(Buffer.concat([first.body, rest.body]), whole);
    assert.equal((await fetchBytes(`${base}/images/${uid}.dcm`, token, { range: `bytes=${whole.length + 5}-` })).status, 416);
    // An image outside the link's target is not served under it.
    const inSeries = new Set(JSON.parse(series0.get('manifest.json')!.toString()).files.map((f: any) => f.sopInstanceUid));
    const other = [...open.markers.keys()].find((u) => !inSeries.has(u))!;
    assert.equal((await fetchBytes(`${base}/images/${other}.dcm`, token)).status, 404);
  });

  it('parses ranges as RFC 9110 says', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
    assert.equal(parseRange('bytes=0-1,5-6', 100), null);
    assert.throws(() => parseRange('bytes=100-', 100));
  });

  it('lists metadata-only images (no stored bytes, like the seeded catalogue) instead of failing the archive', async () => {
    const bare = await makeCollection(app.orm.em as EntityManager, { title: 'metadata only' }, { images: 2 });
    const link = await app.gql(LINK, { t: { collection: bare.accession } }, token);
    const files = await unzip((await fetchBytes(link.data.createDownloadLink.url, token)).body);
    // Issue 13: listed apart, with the reason, in the manifest itself.
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.equal(manifest.files.length, 0);
    assert.equal(manifest.notHeld.files.length, 2);
    assert.match(manifest.notHeld.reason, /metadata-only row/);
    assert.deepEqual([...files.keys()], ['manifest.json']);
  });
});
