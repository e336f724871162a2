// A passport signed by a trusted broker could carry any number of visas, and each was a signature
// check: 1,000 copies of one visa (a 0.5 MB body) were 1,000 checks, and a passport of as many
// distinct visas as the body limit holds (about 2,000) as many. Now a visa carried
// twice is checked once, and a passport of more than the bound is refused (401) before any is checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { MAX_VISAS_PER_PASSPORT } from '../../src/ga4gh/passport/config.js';
import { PassportVerifier } from '../../src/ga4gh/passport/PassportVerifier.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { LocalBroker } from './broker.js';
import { drs, startDrs, type DrsServer } from './support.js';

const DATASET = 'HRA000777';

describe('GA4GH passports: visas per passport are bounded', () => {
  let broker: LocalBroker;
  let app: TestApp;
  let server: DrsServer;
  let c: StoredCollection;
  let uid: string;
  let checks = 0;
  const proto = PassportVerifier.prototype as any;
  const verifyVisa = proto.verifyVisa;

  before(async () => {
    broker = await LocalBroker.start();
    app = await startTestApp({ config: { passports: broker.config } });
    server = await startDrs(app, broker.config);
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'Controlled CT, visa bound' });
    uid = [...c.bytes.keys()][0]!;
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    await app.gql(`mutation { declareEquivalentDataset(collection: "${c.accession}", dataset: "${DATASET}", repository: "GSA-Human") { datasetId } }`, {}, owner);
    proto.verifyVisa = function (...args: unknown[]) { checks++; return verifyVisa.apply(this, args); };
  });
  after(async () => {
    proto.verifyVisa = verifyVisa;
    await server?.close();
    await app?.stop();
    await broker?.close();
  });

  it('a visa carried 1,000 times is checked once, and still grants', async () => {
    const visa = await broker.visa({ dataset: DATASET });
    const passport = await broker.passport(Array(1000).fill(visa));
    checks = 0;
    const res = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [passport] } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(checks, 1, `visa checks: ${checks}`);
  });

  it(`a passport of more than ${MAX_VISAS_PER_PASSPORT} distinct visas is refused (401) before any is checked`, async () => {
    const visas = [await broker.visa({ dataset: DATASET })];
    for (let i = 1; i <= MAX_VISAS_PER_PASSPORT; i++) visas.push(await broker.visa({ dataset: `HRA8${String(i).padStart(5, '0')}` }));
    checks = 0;
    const refused = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [await broker.passport(visas)] } });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.status_code, 401);
    assert.match(refused.body.msg, /more than the 200 this archive checks/);
    assert.equal(checks, 0);
    // At the bound it is accepted.
    checks = 0;
    const atBound = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [await broker.passport(visas.slice(0, MAX_VISAS_PER_PASSPORT))] } });
    assert.equal(atBound.status, 200, JSON.stringify(atBound.body));
    assert.equal(checks, MAX_VISAS_PER_PASSPORT);
  });
});
