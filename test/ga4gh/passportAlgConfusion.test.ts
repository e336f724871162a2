// Passports and visas whose header names "none" or HMAC are refused, including an HS256 token
// keyed with the broker's own public key (algorithm confusion): 401 for the passport, 403 for a
// genuine passport whose only visa is such a token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { Role } from '../../src/auth/Principal.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { LocalBroker } from './broker.js';
import { drs, startDrs, type DrsServer } from './support.js';

const DATASET = 'HRA000555';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A JWT with the header and claims given, "signed" by HMAC with `secret` (or unsigned for alg none). */
async function hand(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string | null): Promise<string> {
  const crypto = await import('node:crypto');
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = secret === null ? '' : crypto.createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

describe('GA4GH passports: "none" and HMAC are refused', () => {
  let broker: LocalBroker;
  let app: TestApp;
  let server: DrsServer;
  let c: StoredCollection;
  let uid: string;
  let brokerJwks: string;

  before(async () => {
    broker = await LocalBroker.start();
    app = await startTestApp({ config: { passports: broker.config } });
    server = await startDrs(app, broker.config);
    c = await collectionWithFiles(app, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, title: 'Controlled, alg confusion' });
    uid = [...c.bytes.keys()][0]!;
    const owner = await app.token('seed-owner', Role.SUBMITTER);
    await app.gql(`mutation { declareEquivalentDataset(collection: "${c.accession}", dataset: "${DATASET}", repository: "GSA-Human") { datasetId } }`, {}, owner);
    brokerJwks = await (await fetch(broker.jku('broker'))).text();
  });
  after(async () => {
    await server?.close();
    await app?.stop();
    await broker?.close();
  });

  it('refuses such passports (401) and such visas (403), on DRS and as a GraphQL bearer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const visaClaims = { iss: broker.issuer('dac'), sub: 'researcher-77', iat: now - 60, exp: now + 3600, ga4gh_visa_v1: { type: 'ControlledAccessGrants', asserted: now - 60, value: DATASET, source: 'https://dac', by: 'dac' } };
    const goodVisa = await broker.visa({ dataset: DATASET });
    const passportClaims = { iss: broker.issuer('broker'), sub: 'researcher-77', iat: now - 60, exp: now + 3600, ga4gh_passport_v1: [goodVisa] };
    const jwk = JSON.parse(brokerJwks).keys[0];
    const passports = {
      none: await hand({ alg: 'none', typ: 'JWT' }, passportClaims, null),
      'HS256 keyed with the JWKS text': await hand({ alg: 'HS256', kid: jwk.kid }, passportClaims, brokerJwks),
      'HS256 keyed with the key\'s x': await hand({ alg: 'HS256', kid: jwk.kid }, passportClaims, jwk.x),
    };
    for (const [what, p] of Object.entries(passports)) {
      const res = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [p] } });
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.status_code, 401);
      const gql = await app.gql('{ viewer { id } }', {}, p);
      assert.equal(gql.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', what);
    }
    const dacJwks = await (await fetch(broker.jku('dac'))).text();
    const visas = {
      none: await hand({ alg: 'none', jku: broker.jku('dac') }, visaClaims, null),
      'HS256 keyed with the DAC JWKS': await hand({ alg: 'HS256', jku: broker.jku('dac'), kid: 'dac-key-1' }, visaClaims, dacJwks),
    };
    for (const [what, v] of Object.entries(visas)) {
      const res = await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [await broker.passport([v])] } });
      assert.equal(res.status, 403, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.status_code, 403);
    }
    // The genuine visa grants.
    assert.equal((await drs('POST', `${server.url}/objects/${uid}/access/https`, { body: { passports: [await broker.passport([goodVisa])] } })).status, 200);
  });
});
