import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { visaGrantedCollections } from '../../src/ga4gh/passport/grants.js';
import { PassportVerifier, VERIFIED_PASSPORT_MS } from '../../src/ga4gh/passport/PassportVerifier.js';
import { MAX_EQUIVALENT_DATASETS } from '../../src/releases/ReleaseService.js';
import { collectionWithFiles, fetchBytes, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { LocalBroker } from './broker.js';
import { drs, startDrs, type DrsServer } from './support.js';
import { assertValid } from './validate.js';

const DATASET = 'HRA000123';

describe('GA4GH passports: the archive as a clearinghouse', () => {
  let broker: LocalBroker;
  let app: TestApp;
  let server: DrsServer;
  let c: StoredCollection;
  let uid: string;

  const access = (passport: string) => drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [passport] } });

  before(async () => {
    broker = await LocalBroker.start();
    app = await startTestApp({ config: { passports: broker.config } });
    server = await startDrs(app, broker.config);
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'Ovarian MR with GSA-Human genomes' });
    uid = [...c.bytes.keys()][0]!;
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    const declared = await app.gql(`mutation { declareEquivalentDataset(collection: "${c.accession}", dataset: "${DATASET}", repository: "GSA-Human") { datasetId repository } }`, {}, owner);
    assert.deepEqual(declared.data, { declareEquivalentDataset: { datasetId: DATASET, repository: 'GSA-Human' } });
  });
  after(async () => {
    await server?.close();
    await app?.stop();
    await broker?.close();
  });

  it('a ControlledAccessGrants visa for the declared equivalent dataset grants the files, audited like an approval', async () => {
    const passport = await broker.passport([await broker.visa({ dataset: DATASET })]);
    const res = await access(passport);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertValid('accessUrl', res.body);
    const file = await fetchBytes(res.body.url, null, { authorization: res.body.headers[0].replace(/^Authorization:\s*/, '') });
    assert.equal(file.status, 200);
    assert.ok(file.body.equals(c.bytes.get(uid)!));
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    const audit = await knex('audit_event').where('collection_id', c.id).where('decision', 'ALLOW').select('actor', 'action', 'reason');
    const actor = `ga4gh:${broker.issuer('broker')}#researcher-77`;
    assert.ok(audit.some((a: any) => a.actor === actor && a.action === 'create_download_link' && /GA4GH passport visa/.test(a.reason)), JSON.stringify(audit));
    assert.ok(audit.some((a: any) => a.actor === actor && a.action === 'download'));
  });

  it('OPTIONS advertises passport authorization and the trusted visa issuers for controlled objects', async () => {
    const res = await drs('OPTIONS', `${server.url}/objects/${uid}`);
    assertValid('authorizations', res.body);
    assert.deepEqual(res.body.supported_types, ['BearerAuth', 'PassportAuth']);
    assert.deepEqual(res.body.passport_auth_issuers, [broker.issuer('dac')]);
  });

  it('a passport is a bearer token on GraphQL and the file routes too', async () => {
    const passport = await broker.passport([await broker.visa({ dataset: DATASET })]);
    const link = await app.gql(`mutation { createDownloadLink(target: { series: "${c.series[0]}" }) { url expiresAt } }`, {}, passport);
    assert.equal(link.errors, undefined, JSON.stringify(link.errors));
    assert.equal((await fetchBytes(link.data.createDownloadLink.url, passport)).status, 200);
    const stranger = await app.token('researcher-1', Role.RESEARCHER);
    assert.equal((await fetchBytes(link.data.createDownloadLink.url, stranger)).status, 403, 'the link stays bound to the passport holder');
  });

  it('never beyond the passport\'s exp: the signed URL expires with it', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const res = await access(await broker.passport([await broker.visa({ dataset: DATASET })], { exp }));
    const claims = JSON.parse(Buffer.from(res.body.url.split('/files/')[1].split('.')[0], 'base64url').toString());
    assert.ok(claims.exp <= exp, `link exp ${claims.exp} is not after the passport's ${exp}`);
    // And a grant is honoured only while the visa lasts.
    const user = { id: 'x', name: null, email: null, institution: null, roles: [Role.RESEARCHER], visas: [{ dataset: DATASET, source: 's', issuer: 'i', exp }] };
    const em = app.orm.em.fork() as EntityManager;
    assert.deepEqual([...await visaGrantedCollections(em, user, [c.id], (exp - 1) * 1000)], [c.id]);
    assert.deepEqual([...await visaGrantedCollections(em, user, [c.id], exp * 1000)], []);
  });

  it('bad passports are refused with 401 and the spec\'s error body', async () => {
    const visa = await broker.visa({ dataset: DATASET });
    const refused = {
      forged: await broker.passport([visa], { signedBy: 'forger' }),
      expired: await broker.passport([visa], { exp: Math.floor(Date.now() / 1000) - 10 }),
      'untrusted broker': await broker.passport([visa], { iss: broker.issuer('rogue'), signedBy: 'rogue' }),
      'not a JWT': 'eyJub3QiOiJhIHBhc3Nwb3J0In0',
    };
    for (const [what, passport] of Object.entries(refused)) {
      const res = await access(passport);
      assert.equal(res.status, 401, what);
      assertValid('error', res.body);
      assert.equal(res.body.status_code, 401);
    }
    const gql = await app.gql('{ viewer { id } }', {}, refused.forged);
    assert.equal(gql.errors![0].extensions.code, 'UNAUTHENTICATED');
  });

  it('visas that do not hold are not honoured (403): wrong dataset, expired, forged, untrusted issuer or jku, another subject, conditions', async () => {
    const now = Math.floor(Date.now() / 1000);
    const visas = {
      'wrong dataset': await broker.visa({ dataset: 'HRA999999' }),
      'expired visa': await broker.visa({ dataset: DATASET, exp: now - 10 }),
      'forged visa': await broker.visa({ dataset: DATASET, signedBy: 'forger' }),
      'untrusted issuer': await broker.visa({ dataset: DATASET, iss: broker.issuer('rogue'), jku: broker.jku('rogue'), signedBy: 'rogue' }),
      'trusted issuer, untrusted jku': await broker.visa({ dataset: DATASET, jku: broker.jku('rogue'), signedBy: 'rogue' }),
      'another subject': await broker.visa({ dataset: DATASET, sub: 'someone-else' }),
      'with conditions': await broker.visa({ dataset: DATASET, conditions: [[{ type: 'AffiliationAndRole', value: 'const:faculty@example.org', by: 'so' }]] }),
      'not a grant': await broker.visa({ dataset: DATASET, type: 'AcceptedTermsAndPolicies' }),
    };
    for (const [what, visa] of Object.entries(visas)) {
      const res = await access(await broker.passport([visa]));
      assert.equal(res.status, 403, what);
      assertValid('error', res.body);
    }
    assert.equal(broker.fetches.get('/rogue/jwks') ?? 0, 0, 'an untrusted jku is never fetched');
  });

  it('a passport is verified once, not once per copy or per request: ten copies of a 40-visa passport were 400 visa checks in one request', async () => {
    const proto = PassportVerifier.prototype as any;
    const verifyVisa = proto.verifyVisa;
    let checks = 0;
    proto.verifyVisa = function (...args: unknown[]) { checks++; return verifyVisa.apply(this, args); };
    try {
      const visas = [await broker.visa({ dataset: DATASET })];
      for (let i = 1; i < 40; i++) visas.push(await broker.visa({ dataset: `HRA9${String(i).padStart(5, '0')}` }));
      const passport = await broker.passport(visas);
      const res = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: Array(10).fill(passport) } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await access(passport)).status, 200);
      assert.equal(checks, 40, 'each visa checked once over both requests');
      // The verification stands for a while, never past the passport's exp: then it is checked again, and refused.
      const verifier = new PassportVerifier(broker.config);
      const exp = Math.floor(Date.now() / 1000) + 30;
      const short = await broker.passport([visas[0]!], { exp });
      const now = Date.now();
      await verifier.verify(short, now);
      assert.ok((await verifier.verify(short, now + 1000)).principal.visas!.length === 1);
      await assert.rejects(verifier.verify(short, exp * 1000 + 1000), /expired/);
      const later = await broker.passport([visas[0]!]);
      await verifier.verify(later, now);
      checks = 0;
      await verifier.verify(later, now + VERIFIED_PASSPORT_MS + 1);
      assert.equal(checks, 1, 'verified again once the verification no longer stands');
    } finally {
      proto.verifyVisa = verifyVisa;
    }
  });

  it('declaring equivalent datasets: the owner or a curator, controlled collections only', async () => {
    const open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED });
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    const onOpen = await app.gql(`mutation { declareEquivalentDataset(collection: "${open.accession}", dataset: "${DATASET}", repository: "GSA-Human") { datasetId } }`, {}, owner);
    assert.equal(onOpen.errors![0].extensions.code, 'BAD_USER_INPUT');
    const stranger = await app.token('researcher-1', Role.RESEARCHER);
    const byStranger = await app.gql(`mutation { declareEquivalentDataset(collection: "${c.accession}", dataset: "phs000001.v1.p1", repository: "dbGaP") { datasetId } }`, {}, stranger);
    assert.equal(byStranger.errors![0].extensions.code, 'NOT_FOUND');
    const listed = await app.gql(`{ collection(accession: "${c.accession}") { equivalentDatasets { datasetId repository } } }`);
    assert.deepEqual(listed.data.collection.equivalentDatasets, [{ datasetId: DATASET, repository: 'GSA-Human' }]);
  });

  it('declaring equivalent datasets is bounded (one unpaged list): the last place is taken, then QUOTA_EXCEEDED', async () => {
    const other = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'many datasets' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    const at = app.orm.em.getPlatform().processDateProperty(new Date());
    await (app.orm.em as EntityManager).getKnex()('collection_dataset').insert(Array.from({ length: MAX_EQUIVALENT_DATASETS - 1 }, (_, i) => ({
      collection_id: other.id, dataset_id: `HRA${String(i).padStart(6, '0')}`, repository: 'GSA-Human', declared_by: 'seed-owner', declared_at: at,
    })));
    const declare = (dataset: string) => app.gql(`mutation { declareEquivalentDataset(collection: "${other.accession}", dataset: "${dataset}", repository: "dbGaP") { datasetId } }`, {}, owner);
    assert.equal((await declare('phs000001.v1.p1')).errors, undefined);
    const over = await declare('phs000002.v1.p1');
    assert.equal(over.errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED');
    assert.equal((await declare('HRA000007')).errors, undefined, 'declaring one again changes nothing and is no error');
  });
});
