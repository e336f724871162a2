import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { collectionWithFiles, fetchBytes, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { addSeries, catalogueFiles, expectedManifest, sha256 } from './support.js';
import { unzip } from '../support/zip.js';

const VERSIONS = `query($a: String!) { collection(accession: $a) { versions {
  number imageCount seriesCount totalSize manifestSha256 bundleSha256 addedCount withdrawnCount identifier identifierKind doi citation dataCite drsUri accession
  files(first: 100) { totalCount edges { node { sopInstanceUid seriesInstanceUid studyAccession individualAccession sha256 size } } }
  series { seriesInstanceUid imageCount }
  withdrawn { sopInstanceUid seriesInstanceUid reason iocmCode note firstAbsentFrom }
} } }`;
const RELEASE = `mutation($a: String!) { releaseCollection(accession: $a) { released blockers { reason } } }`;
const REVIEW = `mutation($u: String!) { reviewSeries(uid: $u, verdict: PASS, note: "looked at every slice") { verdict } }`;
const WITHDRAW = `mutation($u: String!, $r: WithdrawalReason!, $n: String!) { withdrawImage(uid: $u, reason: $r, note: $n) { sopInstanceUid reason iocmCode note firstAbsentFrom } }`;


describe('citable collection versions', () => {
  let app: TestApp;
  let curator: string;
  let researcher: string;
  let c: StoredCollection;
  const bytes = new Map<string, Buffer>();
  let withdrawnUid: string;
  let phiUid: string;

  const versions = async () => {
    const res = await app.gql(VERSIONS, { a: c.accession }, researcher);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data.collection.versions as any[];
  };

  before(async () => {
    app = await startTestApp();
    curator = await app.token('curator-1', Role.CURATOR);
    researcher = await app.token('researcher-1', Role.RESEARCHER);
    c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.DRAFT, title: 'Ovarian CT, pre-treatment' });
    for (const [uid, b] of c.bytes) bytes.set(uid, b);
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    await knex('collection').where('id', c.id).update({ bio_project_accession: 'PRJCA000123', submitter_organization: 'Example Cancer Centre' });
    // The submitter has signed in once, so the archive knows their name for the creators.
    const owner = await app.issuer.issue({ sub: 'seed-owner', roles: [Role.SUBMITTER], name: 'Ada Lovelace', institution: 'Example University' });
    await app.gql('{ viewer { id } }', {}, owner);
    for (const uid of c.series) assert.equal((await app.gql(REVIEW, { u: uid }, curator)).errors, undefined);
  });
  after(async () => { await app?.stop(); });

  it('releasing makes v1: a manifest of every image (path, SOPInstanceUID, sha256, size) with its own checksum', async () => {
    const res = await app.gql(RELEASE, { a: c.accession }, curator);
    assert.deepEqual(res.data.releaseCollection, { released: true, blockers: [] });
    const [v1, ...older] = await versions();
    assert.equal(older.length, 0);
    assert.equal(v1.number, 1);
    assert.equal(v1.imageCount, 4);
    assert.equal(v1.seriesCount, 2);
    assert.equal(v1.addedCount, 4);
    const files = await catalogueFiles(app, c.id);
    assert.equal(v1.manifestSha256, expectedManifest(files));
    assert.equal(v1.bundleSha256, sha256(files.map((f) => f.sha256).sort().join('')));
    assert.equal(v1.totalSize, files.reduce((s, f) => s + f.size, 0));
    const listed = v1.files.edges.map((e: any) => e.node);
    assert.equal(v1.files.totalCount, 4);
    for (const f of listed) assert.equal(f.sha256, sha256(bytes.get(f.sopInstanceUid)!), 'each listed sha256 is that of the stored bytes');
    assert.equal(v1.drsUri, `drs://${new URL(app.url).host}/${c.accession}.v1`);
  });

  it('releasing again with nothing changed makes no new version', async () => {
    assert.equal((await app.gql(RELEASE, { a: c.accession }, curator)).data.releaseCollection.released, true);
    assert.deepEqual((await versions()).map((v) => v.number), [1]);
  });

  it('a new series makes v2, and v1 stays exactly as released', async () => {
    const before = (await versions())[0];
    const added = await addSeries(app, c.id, 3);
    for (const [uid, b] of added.bytes) bytes.set(uid, b);
    await app.gql(RELEASE, { a: c.accession }, curator);
    const [v2, v1] = await versions();
    assert.equal(v2.number, 2);
    assert.equal(v2.imageCount, 7);
    assert.equal(v2.addedCount, 3);
    assert.equal(v2.withdrawnCount, 0);
    assert.ok(v2.series.some((s: any) => s.seriesInstanceUid === added.uid && s.imageCount === 3));
    assert.equal(v2.manifestSha256, expectedManifest(await catalogueFiles(app, c.id)));
    assert.deepEqual(v1, before, 'v1 is immutable');
  });

  it('withdrawing an image leaves a tombstone with the reason (an IOCM rejection note) and cuts v3 at once; v2 still holds it', async () => {
    withdrawnUid = [...c.bytes.keys()][0]!;
    const res = await app.gql(WITHDRAW, { u: withdrawnUid, r: 'QUALITY', n: 'motion artefact' }, curator);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.deepEqual(res.data.withdrawImage, { sopInstanceUid: withdrawnUid, reason: 'QUALITY', iocmCode: '113001', note: 'motion artefact', firstAbsentFrom: 3 });
    const [v3, v2] = await versions();
    assert.equal(v3.number, 3);
    assert.equal(v3.imageCount, 6);
    assert.equal(v3.withdrawnCount, 1);
    assert.ok(!v3.files.edges.some((e: any) => e.node.sopInstanceUid === withdrawnUid));
    assert.deepEqual(v3.withdrawn.map((t: any) => [t.sopInstanceUid, t.reason, t.firstAbsentFrom]), [[withdrawnUid, 'QUALITY', 3]]);
    assert.equal(v3.manifestSha256, expectedManifest(await catalogueFiles(app, c.id), [{ uid: withdrawnUid, reason: 'QUALITY' }]));
    assert.ok(v2.files.edges.some((e: any) => e.node.sopInstanceUid === withdrawnUid), 'v2 still lists it');
    assert.deepEqual(v2.withdrawn, [], 'v2 predates the withdrawal');
    assert.ok(v2.files.edges.some((e: any) => e.node.sopInstanceUid === withdrawnUid));
    // The live catalogue no longer shows it.
    const live = await app.gql(`{ lookup(id: "${withdrawnUid}") { __typename } }`, {}, researcher);
    assert.equal(live.data?.lookup ?? null, null);
  });

  it('an image withdrawn for identifiable information is withheld from every version, listed in each instead', async () => {
    phiUid = [...c.bytes.keys()][1]!;
    const res = await app.gql(WITHDRAW, { u: phiUid, r: 'IDENTIFIABLE_INFORMATION', n: 'burned-in name in the corner' }, curator);
    assert.equal(res.data.withdrawImage.iocmCode, null, 'not an IOCM reason');
    const [v4, , , v1] = await versions();
    assert.equal(v4.number, 4);
    assert.ok(v1.files.edges.some((e: any) => e.node.sopInstanceUid === phiUid), 'v1\'s manifest is history and still names it');
    assert.deepEqual(v1.withdrawn.map((t: any) => t.sopInstanceUid), [phiUid], 'and v1 lists the tombstone');
    const link = await app.gql(`mutation { createVersionDownloadLink(collection: "${c.accession}", number: 1) { url } }`, {}, researcher);
    const entries = await unzip((await fetchBytes(link.data.createVersionDownloadLink.url, researcher)).body);
    assert.ok(![...entries.keys()].some((k) => k.includes(phiUid)), 'its bytes are not served from v1');
    assert.equal(entries.size, 1 + 3, 'manifest.json and v1\'s other three files');
  });

  it('an old version downloads as it was released, the withdrawn image included', async () => {
    const link = await app.gql(`mutation { createVersionDownloadLink(collection: "${c.accession}", number: 2) { url expiresAt } }`, {}, researcher);
    assert.equal(link.errors, undefined, JSON.stringify(link.errors));
    const zip = await fetchBytes(link.data.createVersionDownloadLink.url, researcher);
    assert.equal(zip.status, 200);
    const entries = await unzip(zip.body);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    assert.equal(manifest.files.length, 6, 'v2\'s seven files but the one withheld for identifiable information');
    const withdrawn = [...entries.keys()].find((k) => k.endsWith(`/${withdrawnUid}.dcm`));
    assert.ok(withdrawn, 'the withdrawn image is in v2\'s zip');
    assert.ok(entries.get(withdrawn!)!.equals(bytes.get(withdrawnUid)!));
    // And v3's zip does not hold it.
    const link3 = await app.gql(`mutation { createVersionDownloadLink(collection: "${c.accession}", number: 3) { url } }`, {}, researcher);
    const entries3 = await unzip((await fetchBytes(link3.data.createVersionDownloadLink.url, researcher)).body);
    assert.ok(![...entries3.keys()].some((k) => k.includes(withdrawnUid)));
    // A single file of an old version through the same link, resumable like any other.
    const single = link.data.createVersionDownloadLink.url.replace(/archive\.zip$/, `images/${withdrawnUid}.dcm`);
    const one = await fetchBytes(single, researcher);
    assert.equal(one.status, 200);
    assert.ok(one.body.equals(bytes.get(withdrawnUid)!));
  });

  it('each version has DataCite metadata and a citation; without DataCite credentials a local identifier, labelled as such', async () => {
    const [v4, , , v1] = await versions();
    assert.equal(v1.identifierKind, 'LOCAL');
    assert.equal(v1.identifier, `LOCAL/${c.accession}.v1`);
    assert.equal(v1.doi, null, 'nothing is presented as a DOI unless DataCite minted it');
    const d = v1.dataCite;
    assert.deepEqual(d.identifiers, [{ identifier: `LOCAL/${c.accession}.v1`, identifierType: 'Local' }]);
    assert.equal(d.doi, undefined);
    assert.deepEqual(d.titles, [{ title: 'Ovarian CT, pre-treatment' }]);
    assert.deepEqual(d.creators[0], { name: 'Lovelace, Ada', nameType: 'Personal', givenName: 'Ada', familyName: 'Lovelace', affiliation: [{ name: 'Example University' }] });
    assert.deepEqual(d.creators[1], { name: 'Example Cancer Centre', nameType: 'Organizational' });
    assert.equal(d.publisher, 'OBIA Hub');
    assert.equal(d.publicationYear, new Date().getUTCFullYear());
    assert.equal(d.types.resourceTypeGeneral, 'Dataset');
    assert.equal(d.version, '1');
    assert.deepEqual(d.relatedIdentifiers, [{ relatedIdentifier: 'https://ngdc.cncb.ac.cn/bioproject/browse/PRJCA000123', relatedIdentifierType: 'URL', relationType: 'IsSupplementTo', resourceTypeGeneral: 'Dataset' }]);
    assert.deepEqual(v4.dataCite.relatedIdentifiers[1], { relatedIdentifier: `LOCAL/${c.accession}.v3`, relatedIdentifierType: 'URL', relationType: 'IsNewVersionOf' });
    assert.equal(v1.citation, `Lovelace, Ada; Example Cancer Centre (${d.publicationYear}). Ovarian CT, pre-treatment (Version 1) [Data set]. OBIA Hub. LOCAL/${c.accession}.v1 (local identifier; no DOI has been minted)`);
  });

  it('refuses bad input with typed errors', async () => {
    const none = await app.gql(`{ collection(accession: "${c.accession}") { version(number: 99) { number } } }`, {}, researcher);
    assert.equal(none.data.collection.version, null);
    const zero = await app.gql(`{ collection(accession: "${c.accession}") { version(number: 0) { number } } }`, {}, researcher);
    assert.equal(zero.errors![0].extensions.code, 'BAD_USER_INPUT');
    const uid = [...c.bytes.keys()][2]!;
    assert.equal((await app.gql(WITHDRAW, { u: uid, r: 'QUALITY', n: 'x' }, researcher)).errors![0].extensions.code, 'FORBIDDEN');
    assert.equal((await app.gql(WITHDRAW, { u: uid, r: 'QUALITY', n: 'x' }, null)).errors![0].extensions.code, 'UNAUTHENTICATED');
    assert.equal((await app.gql(WITHDRAW, { u: uid, r: 'QUALITY', n: '  ' }, curator)).errors![0].extensions.code, 'BAD_USER_INPUT');
    assert.equal((await app.gql(WITHDRAW, { u: '1.2.3.4.5', r: 'QUALITY', n: 'x' }, curator)).errors![0].extensions.code, 'NOT_FOUND');
    assert.equal((await app.gql(WITHDRAW, { u: withdrawnUid, r: 'QUALITY', n: 'again' }, curator)).errors![0].extensions.code, 'NOT_FOUND');
    const link = await app.gql(`mutation { createVersionDownloadLink(collection: "${c.accession}", number: 42) { url } }`, {}, researcher);
    assert.equal(link.errors![0].extensions.code, 'FORBIDDEN', 'an absent version reads like a forbidden one');
    const anon = await app.gql(`mutation { createVersionDownloadLink(collection: "${c.accession}", number: 1) { url } }`, {}, null);
    assert.equal(anon.errors![0].extensions.code, 'UNAUTHENTICATED');
  });
});
