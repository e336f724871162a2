import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collectionWithFiles, fetchBytes, insertRequest, REQUEST_INPUT, signLink, type StoredCollection } from './support.js';

/**
 * Everything an unapproved researcher can obtain, searched for the pixel bytes of a controlled
 * collection's files: every GraphQL read they may make, every link they could get or forge, the
 * download and per-file routes, thumbnails, and similar-image search seeded with the file's own UID.
 */
describe('an unapproved researcher never receives a controlled file\'s bytes', () => {
  let app: TestApp;
  let controlled: StoredCollection;
  let draft: StoredCollection;
  let researcher: string;
  let approvedToken: string;
  const responses: { what: string; body: Buffer }[] = [];

  before(async () => {
    app = await startTestApp();
    controlled = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'adversarial controlled' });
    draft = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.DRAFT, title: 'adversarial draft' });
    researcher = await app.token('eve', Role.RESEARCHER);
    approvedToken = await app.token('alice', Role.RESEARCHER);
    await insertRequest(app, controlled.id, 'alice', AccessRequestState.APPROVED);
    await insertRequest(app, draft.id, 'eve', AccessRequestState.APPROVED);
  });
  after(async () => { await app?.stop(); });

  async function gql(what: string, query: string, variables: Record<string, unknown> = {}, token: string | null = researcher) {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    responses.push({ what, body });
    return JSON.parse(body.toString());
  }

  async function get(what: string, url: string, token: string | null = researcher, headers: Record<string, string> = {}) {
    const res = await fetchBytes(url, token, headers);
    responses.push({ what, body: res.body });
    return res;
  }

  it('is refused by every route and field, with no file bytes in any response', async () => {
    const all = [controlled, draft];
    for (const c of all) {
      await gql(`collection ${c.accession}`, `query($a: String!) { collection(accession: $a) { accession title description accessibility releaseState submitter
        viewerCanDownload viewerCanRequestAccess individuals(first: 50) { edges { node { accession } } } } }`, { a: c.accession });
      for (const s of c.studies) await gql(`study ${s}`, `query($a: String!) { study(accession: $a) { accession studyInstanceUid } }`, { a: s });
      for (const s of c.series) {
        await gql(`series ${s}`, `query($u: String!) { series(uid: $u) { uid modality images(first: 100) { edges { node { uid sha256 size transferSyntaxUid hashCode } } } } }`, { u: s });
      }
      for (const uid of c.markers.keys()) {
        await gql(`image ${uid}`, `query($u: String!, $id: ID!) { image(uid: $u) { uid sha256 size } lookup(id: $id) { __typename } }`, { u: uid, id: uid });
        const thumb = await get(`thumbnail ${uid}`, `${app.url}/thumbnails/${uid}.png`);
        assert.equal(thumb.status, 403, `thumbnail ${uid}`);
        await gql(`similar ${uid}`, `query($u: String!) { similarImages(image: { uid: $u }, k: 5) { distance image { uid sha256 } } }`, { u: uid });
      }
      const link = await gql(`link ${c.accession}`, `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`, { a: c.accession });
      if (c === controlled) assert.equal(link.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      for (const target of [{ study: c.studies[0] }, { series: c.series[0] }]) {
        const r = await gql(`link ${JSON.stringify(target)}`, `mutation($t: DownloadTargetInput!) { createDownloadLink(target: $t) { url } }`, { t: target });
        assert.equal(r.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      }
    }
    await gql('my requests', `{ myAccessRequests { id state collection { accession } } }`);
    await gql('audit log', `query($a: String!) { auditLog(collection: $a) { edges { node { action } } } }`, { a: controlled.accession });
    await gql('request', `mutation($a: String!, $i: AccessRequestInput!) { requestAccess(collection: $a, input: $i) { id state } }`, { a: controlled.accession, i: REQUEST_INPUT });

    // Links: one forged for eve (valid signature, no approval), alice's real link presented by eve,
    // a tampered one, an expired one, and the per-file route under each.
    const uid = [...controlled.markers.keys()][0]!;
    const forged = signLink(app, { sub: 'eve', id: controlled.accession });
    const alicesLink = (await (await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${approvedToken}` },
      body: JSON.stringify({ query: `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`, variables: { a: controlled.accession } }),
    })).json() as any).data.createDownloadLink.url as string;
    const [body, sig] = alicesLink.split('/files/')[1]!.split('/')[0]!.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const tampered = `${app.url}/files/${Buffer.from(JSON.stringify({ ...claims, sub: 'eve' })).toString('base64url')}.${sig}/archive.zip`;
    const expired = signLink(app, { sub: 'eve', id: controlled.accession, exp: Math.floor(Date.now() / 1000) - 1 });
    const draftForged = signLink(app, { sub: 'eve', id: draft.accession });
    const cases: [string, string, string | null, number][] = [
      ['forged for eve', forged, researcher, 403],
      ['alice\'s link, eve\'s token', alicesLink, researcher, 403],
      ['alice\'s link, no token', alicesLink, null, 401],
      ['tampered', tampered, researcher, 403],
      ['expired', expired, researcher, 403],
      ['unreleased, eve holds an approval', draftForged, researcher, 403],
      ['series link forged', signLink(app, { sub: 'eve', kind: 'series', id: controlled.series[0]! }), researcher, 403],
    ];
    for (const [what, url, token, status] of cases) {
      const zip = await get(`zip: ${what}`, url, token);
      assert.equal(zip.status, status, `zip: ${what}`);
      const file = await get(`file: ${what}`, url.replace('/archive.zip', `/images/${uid}.dcm`), token, { range: 'bytes=0-' });
      assert.equal(file.status, status, `file: ${what}`);
    }

    // The search: raw, base64 and hex forms of every marker, in every response.
    const needles = [...controlled.markers.values(), ...draft.markers.values()]
      .flatMap((m) => [m, Buffer.from(m.toString('base64')), Buffer.from(m.toString('hex')), Buffer.from(m.subarray(0, 48).toString('base64'))]);
    assert.ok(responses.length > 30, `searched ${responses.length} responses`);
    for (const r of responses) {
      for (const n of needles) assert.equal(r.body.indexOf(n), -1, `file bytes leaked through: ${r.what}`);
    }
  });

  it('the same probe finds the bytes once approved (the search would have seen them)', async () => {
    const link = await app.gql(`mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`, { a: controlled.accession }, approvedToken);
    const zip = await fetchBytes(link.data.createDownloadLink.url, approvedToken);
    assert.equal(zip.status, 200);
    for (const m of controlled.markers.values()) assert.notEqual(zip.body.indexOf(m), -1);
  });
});
