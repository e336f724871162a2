// A passport naming an audience (`aud`) was honoured whatever it named: one a user gave another
// service (another DRS server, say) could be replayed to this archive by that service. Now a
// passport with `aud` is honoured only when it names this archive (OBIA_PASSPORT_AUDIENCES);
// one without `aud` is for any clearinghouse, as before.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { passportConfigFromEnv } from '../../src/ga4gh/passport/config.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { LocalBroker } from './broker.js';
import { drs, startDrs, type DrsServer } from './support.js';

const DATASET = 'HRA000888';
const US = 'https://obia-hub.example/ga4gh/drs/v1';

describe('GA4GH passports: audience', () => {
  let broker: LocalBroker;
  let app: TestApp;
  let server: DrsServer;
  let c: StoredCollection;
  let uid: string;

  before(async () => {
    broker = await LocalBroker.start();
    const config = { ...broker.config, audiences: [US] };
    app = await startTestApp({ config: { passports: config } });
    server = await startDrs(app, config);
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'Controlled, audience' });
    uid = [...c.bytes.keys()][0]!;
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    await app.gql(`mutation { declareEquivalentDataset(collection: "${c.accession}", dataset: "${DATASET}", repository: "GSA-Human") { datasetId } }`, {}, owner);
  });
  after(async () => {
    await server?.close();
    await app?.stop();
    await broker?.close();
  });

  it('a passport for another audience is refused (401); one for this archive, or for none, grants', async () => {
    const visa = await broker.visa({ dataset: DATASET });
    const access = async (passport: string) => drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [passport] } });
    for (const aud of ['https://other-drs.example', ['https://other-drs.example', 'https://third.example']]) {
      const p = await broker.passport([visa], { aud });
      const res = await access(p);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.deepEqual(res.body, { msg: 'passport refused: the passport is for another audience', status_code: 401 });
      assert.equal((await app.gql('{ viewer { id } }', {}, p)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    }
    assert.equal((await access(await broker.passport([visa], { aud: US }))).status, 200);
    assert.equal((await access(await broker.passport([visa], { aud: ['https://other-drs.example', US] }))).status, 200);
    assert.equal((await access(await broker.passport([visa]))).status, 200);
  });

  it('OBIA_PASSPORT_AUDIENCES configures it', () => {
    assert.deepEqual(passportConfigFromEnv({ OBIA_PASSPORT_AUDIENCES: ` ${US}, https://b.example ` }).audiences, [US, 'https://b.example']);
    assert.deepEqual(passportConfigFromEnv({}).audiences, []);
  });
});
