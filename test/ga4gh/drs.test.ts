import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { collectionWithFiles, fetchBytes, insertRequest, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { drs, startDrs, type DrsServer } from './support.js';
import { assertValid } from './validate.js';

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const bundleSum = (shas: string[]) => crypto.createHash('sha256').update([...shas].sort().join('')).digest('hex');

/** Follows an AccessURL as a DRS client would: its url, with its headers. */
async function follow(accessUrl: { url: string; headers?: string[] }) {
  const headers = Object.fromEntries((accessUrl.headers ?? []).map((h) => { const i = h.indexOf(':'); return [h.slice(0, i).trim(), h.slice(i + 1).trim()]; }));
  return fetchBytes(accessUrl.url, null, headers);
}

describe('GA4GH DRS 1.4 at /ga4gh/drs/v1', () => {
  let app: TestApp;
  let server: DrsServer;
  let researcher: string;
  let approved: string;
  let curator: string;
  let open: StoredCollection;
  let controlled: StoredCollection;
  let draft: StoredCollection;

  before(async () => {
    app = await startTestApp();
    server = await startDrs(app);
    researcher = await app.token('researcher-1', Role.RESEARCHER);
    approved = await app.token('researcher-2', Role.RESEARCHER);
    curator = await app.token('curator-1', Role.CURATOR);
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Open CT' });
    controlled = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'Controlled MR' });
    draft = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.DRAFT, title: 'Not yet released' });
    for (const c of [open, controlled]) await app.gql(`mutation { releaseCollection(accession: "${c.accession}") { released } }`, {}, curator);
    await insertRequest(app, controlled.id, 'researcher-2', AccessRequestState.APPROVED);
  });
  after(async () => {
    await server?.close();
    await app?.stop();
  });

  it('service-info describes a DRS 1.4 service', async () => {
    const res = await drs('GET', `${server.url}/service-info`);
    assert.equal(res.status, 200);
    assertValid('serviceInfo', res.body);
    assert.deepEqual(res.body.type, { group: 'org.ga4gh', artifact: 'drs', version: '1.4.0' });
  });

  it('an image is a blob: its size, the sha-256 of its bytes, and an https access method with id "https"', async () => {
    const [uid, bytes] = [...open.bytes][0]!;
    const res = await drs('GET', `${server.url}/objects/${uid}`);
    assert.equal(res.status, 200);
    assertValid('drsObject', res.body);
    assert.equal(res.body.id, uid);
    assert.equal(res.body.self_uri, `drs://${new URL(app.url).host}/${uid}`);
    assert.equal(res.body.size, bytes.length);
    assert.deepEqual(res.body.checksums, [{ checksum: sha256(bytes), type: 'sha-256' }]);
    assert.equal(res.body.contents, undefined, 'a blob has no contents');
    assert.equal(res.body.access_methods[0].type, 'https');
    assert.equal(res.body.access_methods[0].access_id, 'https');
    // POST with an empty body answers the same object.
    const posted = await drs('POST', `${server.url}/objects/${uid}`, { body: {} });
    assert.deepEqual(posted.body, res.body);
  });

  it('a series and a collection version are bundles whose contents resolve, with the spec\'s bundle checksum', async () => {
    const seriesUid = open.series[0]!;
    const series = await drs('GET', `${server.url}/objects/${seriesUid}?expand=true`);
    assert.equal(series.status, 200);
    assertValid('drsObject', series.body);
    assert.equal(series.body.contents.length, 2);
    const shas: string[] = [];
    let size = 0;
    for (const item of series.body.contents) {
      const blob = await drs('GET', `${server.url}/objects/${item.id}`);
      assert.equal(blob.status, 200);
      assert.deepEqual(item.drs_uri, [blob.body.self_uri]);
      shas.push(blob.body.checksums[0].checksum);
      size += blob.body.size;
    }
    assert.deepEqual(series.body.checksums, [{ checksum: bundleSum(shas), type: 'sha-256' }]);
    assert.equal(series.body.size, size);
    const version = await drs('GET', `${server.url}/objects/${open.accession}.v1`);
    assert.equal(version.status, 200);
    assertValid('drsObject', version.body);
    assert.equal(version.body.version, 'v1');
    assert.equal(version.body.contents.length, 4);
    assert.deepEqual(version.body.checksums, [{ checksum: bundleSum([...open.bytes.values()].map(sha256)), type: 'sha-256' }]);
    const gql = await app.gql(`{ collection(accession: "${open.accession}") { version(number: 1) { bundleSha256 drsUri } } }`);
    assert.equal(gql.data.collection.version.bundleSha256, version.body.checksums[0].checksum);
    assert.equal(gql.data.collection.version.drsUri, version.body.self_uri);
  });

  it('open data: a signed-in user gets a signed, expiring URL that serves the bytes; anonymous callers get 401', async () => {
    const [uid, bytes] = [...open.bytes][1]!;
    const anon = await drs('GET', `${server.url}/objects/${uid}/access/https`);
    assert.equal(anon.status, 401);
    assertValid('error', anon.body);
    assert.equal(anon.body.status_code, 401);
    const res = await drs('GET', `${server.url}/objects/${uid}/access/https`, { token: researcher });
    assert.equal(res.status, 200);
    assertValid('accessUrl', res.body);
    assert.match(res.body.url, /\/files\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/images\//);
    const file = await follow(res.body);
    assert.equal(file.status, 200);
    assert.ok(file.body.equals(bytes));
    // The URL is the archive's own link: bound to the user, refused to anyone else.
    assert.equal((await fetchBytes(res.body.url, approved)).status, 403);
    const exp = JSON.parse(Buffer.from(res.body.url.split('/files/')[1].split('.')[0], 'base64url').toString()).exp;
    assert.ok(exp * 1000 > Date.now() && exp * 1000 <= Date.now() + 3600_000, 'expires within the hour');
    // A series bundle's URL is a zip of it.
    const zip = await drs('POST', `${server.url}/objects/${open.series[0]}/access/https`, { token: researcher, body: {} });
    assert.match(zip.body.url, /archive\.zip$/);
    assert.equal((await follow(zip.body)).status, 200);
  });

  it('controlled data: 403 without an approval, a URL with one; OPTIONS advertises how to authorise', async () => {
    const [uid, bytes] = [...controlled.bytes][0]!;
    const meta = await drs('GET', `${server.url}/objects/${uid}`);
    assert.equal(meta.status, 200, 'metadata is shown as browse shows it');
    const refused = await drs('GET', `${server.url}/objects/${uid}/access/https`, { token: researcher });
    assert.equal(refused.status, 403);
    assertValid('error', refused.body);
    const granted = await drs('GET', `${server.url}/objects/${uid}/access/https`, { token: approved });
    assert.equal(granted.status, 200);
    assert.ok((await follow(granted.body)).body.equals(bytes));
    const options = await drs('OPTIONS', `${server.url}/objects/${uid}`);
    assert.equal(options.status, 200);
    assertValid('authorizations', options.body);
    assert.deepEqual(options.body.supported_types, ['BearerAuth']);
    assert.deepEqual(options.body.bearer_auth_issuers, [app.config.oidc.issuer]);
    const version = await drs('POST', `${server.url}/objects/${controlled.accession}.v1/access/https`, { token: approved, body: {} });
    assert.equal(version.status, 200);
    assert.equal((await follow(version.body)).status, 200);
  });

  it('bulk POST /objects, OPTIONS /objects and POST /objects/access resolve what they can and report the rest by error code', async () => {
    const [openUid] = [...open.bytes.keys()];
    const [controlledUid] = [...controlled.bytes.keys()];
    const objects = await drs('POST', `${server.url}/objects`, { body: { bulk_object_ids: [openUid, controlledUid, '1.2.3.999', 'not valid!'] } });
    assert.equal(objects.status, 200);
    assertValid('bulkObjects', objects.body);
    assert.deepEqual(objects.body.summary, { requested: 4, resolved: 2, unresolved: 2 });
    assert.deepEqual(objects.body.unresolved_drs_objects, [{ error_code: 404, object_ids: ['1.2.3.999'] }, { error_code: 400, object_ids: ['not valid!'] }]);
    for (const o of objects.body.resolved_drs_object) assertValid('drsObject', o);
    const auths = await drs('OPTIONS', `${server.url}/objects`, { body: { bulk_object_ids: [openUid, '1.2.3.999'] } });
    assertValid('bulkAuthorizations', auths.body);
    assert.equal(auths.body.summary.resolved, 1);
    const access = await drs('POST', `${server.url}/objects/access`, {
      token: researcher,
      body: { bulk_object_access_ids: [{ bulk_object_id: openUid, bulk_access_ids: ['https'] }, { bulk_object_id: controlledUid, bulk_access_ids: ['https'] }, { bulk_object_id: openUid, bulk_access_ids: ['s3'] }] },
    });
    assert.equal(access.status, 200);
    assertValid('bulkAccess', access.body);
    assert.deepEqual(access.body.summary, { requested: 3, resolved: 1, unresolved: 2 });
    assert.deepEqual(access.body.unresolved_drs_objects, [{ error_code: 403, object_ids: [controlledUid] }, { error_code: 404, object_ids: [openUid] }]);
    assert.equal(access.body.resolved_drs_object_access_urls[0].drs_object_id, openUid);
    assert.equal((await follow(access.body.resolved_drs_object_access_urls[0])).status, 200);
  });

  it('bulk answers an id asked for twice once, and refuses bundles listing more than the bound in all (413)', async () => {
    const version = `${open.accession}.v1`;
    const repeated = await drs('POST', `${server.url}/objects`, { body: { bulk_object_ids: Array(100).fill(version) } });
    assert.equal(repeated.status, 200);
    assertValid('bulkObjects', repeated.body);
    assert.deepEqual(repeated.body.summary, { requested: 1, resolved: 1, unresolved: 0 });
    assert.equal(repeated.body.resolved_drs_object[0].contents.length, 4);
    // Object/access pairs too: a hundred copies of one pair were a hundred resolutions and signed links (79 KB, about 100 CPU-ms).
    const [openUid] = [...open.bytes.keys()];
    const pairs = await drs('POST', `${server.url}/objects/access`, {
      token: researcher,
      body: { bulk_object_access_ids: [{ bulk_object_id: openUid, bulk_access_ids: Array(60).fill('https') }, ...Array(40).fill({ bulk_object_id: openUid, bulk_access_ids: ['https'] })] },
    });
    assert.equal(pairs.status, 200);
    assertValid('bulkAccess', pairs.body);
    assert.deepEqual(pairs.body.summary, { requested: 1, resolved: 1, unresolved: 0 });
    assert.equal(pairs.body.resolved_drs_object_access_urls.length, 1);
    // A server whose bound is six listed objects: one four-image version fits, two do not.
    const small = await startDrs(app, undefined, { maxBulkContents: 6 });
    try {
      assert.equal((await drs('POST', `${small.url}/objects`, { body: { bulk_object_ids: [version] } })).status, 200);
      const both = await drs('POST', `${small.url}/objects`, { body: { bulk_object_ids: [version, `${controlled.accession}.v1`] } });
      assert.equal(both.status, 413);
      assertValid('error', both.body);
      assert.match(both.body.msg, /more than 6 objects/);
    } finally {
      await small.close();
    }
  });

  it('bad input gets the spec\'s error body; a hidden object reads exactly like an unknown one', async () => {
    const cases: [string, string, number, unknown?][] = [
      ['GET', `/objects/${encodeURIComponent('bad id!')}`, 400],
      ['GET', '/objects/1.2.3.4.5.6.7', 404],
      ['GET', `/objects/${[...draft.bytes.keys()][0]}`, 404],
      ['GET', `/objects/${draft.series[0]}/access/https`, 404],
      ['GET', `/objects/${open.accession}.v9`, 404],
      ['GET', `/objects/${[...open.bytes.keys()][0]}/access/ftp`, 404],
      ['POST', '/objects', 413, { bulk_object_ids: Array.from({ length: 101 }, (_, i) => `1.2.${i}`) }],
      ['POST', '/objects', 400, { bulk_object_ids: 'not a list' }],
      ['POST', `/objects/${[...open.bytes.keys()][0]}`, 400, { passports: 'not a list' }],
      ['POST', `/objects/${[...open.bytes.keys()][0]}`, 401, { passports: ['not.a.passport'] }],
      ['GET', '/nothing-here', 404],
    ];
    const hidden: any[] = [];
    for (const [method, path, status, body] of cases) {
      const res = await drs(method, `${server.url}${path}`, { token: researcher, body });
      assert.equal(res.status, status, `${method} ${path}`);
      assertValid('error', res.body);
      assert.equal(res.body.status_code, status);
      if (status === 404 && path.startsWith('/objects/') && !path.includes('ftp')) hidden.push(res.body);
    }
    assert.ok(hidden.every((b) => b.msg === hidden[0].msg), 'unknown and hidden objects get the same answer');
    const badJson = await drs('POST', `${server.url}/objects`, { rawBody: '{"bulk_object_ids": [' });
    assert.equal(badJson.status, 400);
    assertValid('error', badJson.body);
    const badToken = await drs('GET', `${server.url}/objects/${[...open.bytes.keys()][0]}`, { token: 'not-a-jwt' });
    assert.equal(badToken.status, 401);
    // The server survives all of it.
    assert.equal((await drs('GET', `${server.url}/service-info`)).status, 200);
  });

  it('the archive itself serves DRS at /ga4gh/drs/v1 (same plugin, bridged until the Fastify front door)', async () => {
    const info = await drs('GET', `${app.url}/ga4gh/drs/v1/service-info`);
    assert.equal(info.status, 200);
    assertValid('serviceInfo', info.body);
    const [uid, bytes] = [...open.bytes][0]!;
    const object = await drs('GET', `${app.url}/ga4gh/drs/v1/objects/${uid}`);
    assert.equal(object.body.checksums[0].checksum, sha256(bytes));
    const url = await drs('POST', `${app.url}/ga4gh/drs/v1/objects/${uid}/access/https`, { token: researcher, body: {} });
    assert.ok((await follow(url.body)).body.equals(bytes));
    const missing = await drs('GET', `${app.url}/ga4gh/drs/v1/objects/1.2.3.999`);
    assert.equal(missing.status, 404);
    assertValid('error', missing.body);
  });

  it('a withdrawn image stays resolvable through the versions that hold it; one withdrawn for identifiable information is no longer served', async () => {
    const [[quality, qualityBytes], [phi]] = [...open.bytes].slice(2, 4) as [string, Buffer][];
    const withdraw = `mutation($u: String!, $r: WithdrawalReason!) { withdrawImage(uid: $u, reason: $r, note: "found in review") { sopInstanceUid } }`;
    for (const [u, r] of [[quality, 'QUALITY'], [phi, 'IDENTIFIABLE_INFORMATION']]) assert.equal((await app.gql(withdraw, { u, r }, curator)).errors, undefined);
    const object = await drs('GET', `${server.url}/objects/${quality}`);
    assert.equal(object.status, 200);
    assertValid('drsObject', object.body);
    assert.match(object.body.description, /withdrawn \(QUALITY: found in review\)/);
    const url = await drs('GET', `${server.url}/objects/${quality}/access/https`, { token: researcher });
    assert.ok((await follow(url.body)).body.equals(qualityBytes), 'served from v1, where it still is');
    const withheld = await drs('GET', `${server.url}/objects/${phi}/access/https`, { token: researcher });
    assert.equal(withheld.status, 404);
    assertValid('error', withheld.body);
    const latest = await drs('GET', `${server.url}/objects/${open.accession}.v3`);
    assert.equal(latest.body.contents.length, 2, 'the latest version holds neither');
  });

  it('GraphQL shows each image\'s and series\' drsUri', async () => {
    const res = await app.gql(`{ series(uid: "${open.series[0]}") { drsUri images(first: 5) { edges { node { uid drsUri } } } } }`);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const host = new URL(app.url).host;
    assert.equal(res.data.series.drsUri, `drs://${host}/${open.series[0]}`);
    for (const { node } of res.data.series.images.edges) assert.equal(node.drsUri, `drs://${host}/${node.uid}`);
  });
});
