import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { AccessRequestState } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collectionWithFiles, fetchBytes, insertRequest, REQUEST_INPUT, signLink, type StoredCollection } from './support.js';

/**
 * Who may do what, for every role × accessibility × release state. Each cell lists the operations
 * allowed, in the order B = browse metadata, T = thumbnail, L = create a download link,
 * D = download (a link signed for that user, presented with their token), R = request access,
 * V = review a request; "-" marks a denial.
 */
const EXPECTED = `
role                  | OPEN/RELEASED | OPEN/DRAFT | CONTROLLED/RELEASED | CONTROLLED/DRAFT
anonymous             | BT----        | ------     | B-----              | ------
researcher            | BTLD--        | ------     | B---R-              | ------
researcher (approved) | BTLD--        | ------     | BTLD--              | ------
owner                 | BTLD-V        | BTLD-V     | BTLD-V              | BTLD-V
curator               | BTLD--        | BTLD--     | BTLD--              | BTLD--
admin                 | BTLD-V        | BTLD-V     | BTLD-V              | BTLD-V
`;

const OPS = ['B', 'T', 'L', 'D', 'R', 'V'] as const;
type Op = (typeof OPS)[number];

function parse(table: string) {
  const [head, ...rows] = table.trim().split('\n').map((l) => l.split('|').map((c) => c.trim()));
  const columns = head!.slice(1);
  const cells: { role: string; column: string; allowed: Set<Op> }[] = [];
  for (const row of rows) {
    row.slice(1).forEach((code, i) => cells.push({ role: row[0]!, column: columns[i]!, allowed: new Set([...code].filter((ch) => ch !== '-') as Op[]) }));
  }
  return { columns, cells };
}

describe('access matrix: role × accessibility × release state × operation', () => {
  let app: TestApp;
  const collections = new Map<string, StoredCollection>();
  const tokens = new Map<string, string | null>();
  const subs: Record<string, string | null> = {
    anonymous: null, researcher: 'matrix-researcher', 'researcher (approved)': 'matrix-approved', owner: 'seed-owner', curator: 'matrix-curator', admin: 'matrix-admin',
  };

  before(async () => {
    app = await startTestApp({ seedScale: 0.002 });
    for (const column of parse(EXPECTED).columns) {
      const [accessibility, releaseState] = column.split('/') as [Accessibility, ReleaseState];
      const c = await collectionWithFiles(app, { accessibility, releaseState, title: `matrix ${column}` }, { individuals: 1, studies: 1, series: 1, images: 1 });
      collections.set(column, c);
      // The approved researcher holds a valid approval everywhere (even where the policy ignores it).
      await insertRequest(app, c.id, 'matrix-approved', AccessRequestState.APPROVED, new Date(Date.now() + 86_400_000));
    }
    tokens.set('anonymous', null);
    tokens.set('researcher', await app.token('matrix-researcher', Role.RESEARCHER));
    tokens.set('researcher (approved)', await app.token('matrix-approved', Role.RESEARCHER));
    tokens.set('owner', await app.token('seed-owner', Role.SUBMITTER));
    tokens.set('curator', await app.token('matrix-curator', Role.CURATOR));
    tokens.set('admin', await app.token('matrix-admin', Role.ADMIN));
  });
  after(async () => { await app?.stop(); });

  async function attempt(op: Op, role: string, c: StoredCollection): Promise<boolean> {
    const token = tokens.get(role) ?? null;
    switch (op) {
      case 'B': {
        const res = await app.gql(`query($a: String!) { collection(accession: $a) { accession } }`, { a: c.accession }, token);
        assert.equal(res.errors, undefined);
        return res.data.collection?.accession === c.accession;
      }
      case 'T': {
        const uid = [...c.markers.keys()][0]!;
        const res = await fetchBytes(`${app.url}/thumbnails/${uid}.png`, token);
        assert.ok([200, 401, 403].includes(res.status), `status ${res.status}`);
        if (res.status !== 200) assert.equal(res.status, token ? 403 : 401);
        return res.status === 200 && res.headers.get('content-type') === 'image/png' && res.body.subarray(1, 4).toString() === 'PNG';
      }
      case 'L': {
        const res = await app.gql(`mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url expiresAt } }`, { a: c.accession }, token);
        if (res.errors) assert.equal(res.errors![0].extensions.code, token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
        return !!res.data?.createDownloadLink?.url;
      }
      case 'D': {
        const url = signLink(app, { sub: subs[role] ?? 'nobody', id: c.accession });
        const res = await fetchBytes(url, token);
        assert.ok([200, 401, 403].includes(res.status), `status ${res.status}`);
        return res.status === 200 && res.body.subarray(0, 2).toString() === 'PK';
      }
      case 'R': {
        const res = await app.gql(`mutation($a: String!, $i: AccessRequestInput!) { requestAccess(collection: $a, input: $i) { id state } }`, { a: c.accession, i: REQUEST_INPUT }, token);
        if (res.errors) assert.equal(res.errors![0].extensions.code, token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
        return res.data?.requestAccess?.state === 'PENDING';
      }
      case 'V': {
        const id = await insertRequest(app, c.id, `matrix-asker-${role}`, AccessRequestState.PENDING);
        const res = await app.gql(`mutation($id: ID!) { reviewAccessRequest(id: $id, decision: APPROVE) { state } }`, { id: String(id) }, token);
        if (res.errors) assert.equal(res.errors![0].extensions.code, token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
        return res.data?.reviewAccessRequest?.state === 'APPROVED';
      }
    }
  }

  for (const cell of parse(EXPECTED).cells) {
    it(`${cell.role} on ${cell.column}: ${OPS.map((o) => (cell.allowed.has(o) ? o : '-')).join('')}`, async () => {
      const c = collections.get(cell.column)!;
      const got = new Set<Op>();
      for (const op of OPS) if (await attempt(op, cell.role, c)) got.add(op);
      assert.equal(OPS.map((o) => (got.has(o) ? o : '-')).join(''), OPS.map((o) => (cell.allowed.has(o) ? o : '-')).join(''));
    });
  }

  it('reports the same rules through viewerCan* fields', async () => {
    const q = `query($a: String!) { collection(accession: $a) { viewerCanDownload viewerCanRequestAccess viewerCanReviewRequests viewerCanViewThumbnails } }`;
    const c = collections.get('CONTROLLED/RELEASED')!;
    const researcher = await app.gql(q, { a: c.accession }, await app.token('fresh-researcher', Role.RESEARCHER));
    assert.deepEqual(researcher.data.collection, { viewerCanDownload: false, viewerCanRequestAccess: true, viewerCanReviewRequests: false, viewerCanViewThumbnails: false });
    const owner = await app.gql(q, { a: c.accession }, tokens.get('owner'));
    assert.deepEqual(owner.data.collection, { viewerCanDownload: true, viewerCanRequestAccess: false, viewerCanReviewRequests: true, viewerCanViewThumbnails: true });
    const anonymousOpen = await app.gql(q, { a: collections.get('OPEN/RELEASED')!.accession });
    assert.deepEqual(anonymousOpen.data.collection, { viewerCanDownload: false, viewerCanRequestAccess: false, viewerCanReviewRequests: false, viewerCanViewThumbnails: true });
  });

  it('applies to the seeded controlled collections and their seeded owner (npm start data)', async () => {
    const q = `{ a: collection(accession: "OBIA0002") { accessibility viewerCanDownload viewerCanRequestAccess viewerCanReviewRequests }
                 b: collection(accession: "OBIA0004") { accessibility viewerCanDownload viewerCanRequestAccess viewerCanReviewRequests } }`;
    const researcher = await app.gql(q, {}, await app.token('seed-reader', Role.RESEARCHER));
    for (const k of ['a', 'b']) assert.deepEqual(researcher.data[k], { accessibility: 'CONTROLLED', viewerCanDownload: false, viewerCanRequestAccess: true, viewerCanReviewRequests: false });
    const owner = await app.gql(q, {}, tokens.get('owner'));
    for (const k of ['a', 'b']) assert.deepEqual(owner.data[k], { accessibility: 'CONTROLLED', viewerCanDownload: true, viewerCanRequestAccess: false, viewerCanReviewRequests: true });
  });

  it('refuses a hidden collection exactly as an absent one', async () => {
    const hidden = collections.get('CONTROLLED/DRAFT')!.accession;
    const token = tokens.get('researcher');
    const m = `mutation($a: String!, $i: AccessRequestInput!) { requestAccess(collection: $a, input: $i) { id } }`;
    const [h, absent] = await Promise.all([app.gql(m, { a: hidden, i: REQUEST_INPUT }, token), app.gql(m, { a: 'OBIA9999', i: REQUEST_INPUT }, token)]);
    assert.equal(h.errors![0].extensions.code, 'FORBIDDEN');
    assert.equal(h.errors![0].message.replace(hidden, 'X'), absent.errors![0].message.replace('OBIA9999', 'X'));
    const l = `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`;
    const [hl, al] = await Promise.all([app.gql(l, { a: hidden }, token), app.gql(l, { a: 'OBIA9999' }, token)]);
    assert.equal(hl.errors![0].message.replace(hidden, 'X'), al.errors![0].message.replace('OBIA9999', 'X'));
    const hiddenUid = [...collections.get('CONTROLLED/DRAFT')!.markers.keys()][0]!;
    for (const t of [token, null]) {
      const [ht, at] = await Promise.all([fetchBytes(`${app.url}/thumbnails/${hiddenUid}.png`, t), fetchBytes(`${app.url}/thumbnails/1.2.3.999999.png`, t)]);
      assert.equal(ht.status, t ? 403 : 401);
      assert.deepEqual([ht.status, ht.body.toString()], [at.status, at.body.toString()]);
    }
  });
});
