import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { collectionWithFiles } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';

const PREFIX = '10.80001';

/**
 * A DataCite-like peer on 127.0.0.1: `POST /dois` with HTTP Basic credentials and a JSON:API
 * body, checked the way the DataCite REST API checks it (the required DataCite Metadata Schema
 * properties, the repository's prefix, a DOI not taken yet); 201 with the registered DOI, 401/422 otherwise.
 */
function dataCitePeer() {
  const registered = new Map<string, any>();
  const peer = { password: 'right', registered, requests: 0, server: null as unknown as http.Server, url: '' };
  peer.server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      peer.requests++;
      const reply = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/vnd.api+json' }); res.end(JSON.stringify(body)); };
      if (req.method !== 'POST' || req.url !== '/dois') return reply(404, { errors: [{ status: '404', title: 'not found' }] });
      if (req.headers.authorization !== `Basic ${Buffer.from(`OBIA.HUB:${peer.password}`).toString('base64')}`) return reply(401, { errors: [{ status: '401', title: 'Bad credentials.' }] });
      if (req.headers['content-type'] !== 'application/vnd.api+json') return reply(415, { errors: [{ status: '415', title: 'unsupported media type' }] });
      const a = JSON.parse(Buffer.concat(chunks).toString()).data?.attributes ?? {};
      const problems = [
        !a.doi?.startsWith(`${PREFIX}/`) && 'doi must use the repository prefix',
        a.event !== 'publish' && 'event must be publish',
        !(a.creators?.length && a.creators.every((c: any) => c.name)) && 'creators',
        !a.titles?.[0]?.title && 'titles',
        !a.publisher && 'publisher',
        !Number.isInteger(a.publicationYear) && 'publicationYear',
        a.types?.resourceTypeGeneral !== 'Dataset' && 'types.resourceTypeGeneral',
        !/^https?:\/\//.test(a.url ?? '') && 'url',
      ].filter(Boolean);
      if (registered.has(a.doi?.toLowerCase())) problems.push('This DOI has already been taken');
      if (problems.length) return reply(422, { errors: problems.map((title) => ({ status: '422', title })) });
      registered.set(a.doi.toLowerCase(), a);
      return reply(201, { data: { id: a.doi.toLowerCase(), type: 'dois', attributes: { ...a, doi: a.doi.toLowerCase(), state: 'findable' } } });
    });
  });
  return peer;
}

describe('DOIs minted through a configured DataCite endpoint', () => {
  let app: TestApp;
  const peer = dataCitePeer();
  let curator: string;

  before(async () => {
    await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', () => r()));
    peer.url = `http://127.0.0.1:${(peer.server.address() as AddressInfo).port}`;
    app = await startTestApp({
      config: { releases: { publisher: 'OBIA Hub', datacite: { endpoint: peer.url, repositoryId: 'OBIA.HUB', password: 'right', prefix: PREFIX } } },
    });
    curator = await app.token('curator-1', Role.CURATOR);
  });
  after(async () => {
    await app?.stop();
    await new Promise((r) => peer.server.close(r));
  });

  const VERSION = `query($a: String!) { collection(accession: $a) { versions { number identifier identifierKind doi citation dataCite } } }`;

  it('registers the version\'s DOI with its DataCite metadata and shows it as the citation\'s identifier', async () => {
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Lung CT' });
    await app.gql(`mutation { releaseCollection(accession: "${c.accession}") { released } }`, {}, curator);
    const [v1] = (await app.gql(VERSION, { a: c.accession }, curator)).data.collection.versions;
    const doi = `${PREFIX}/${c.accession}.v1`.toLowerCase();
    assert.equal(v1.identifierKind, 'DOI');
    assert.equal(v1.doi, doi);
    assert.ok(peer.registered.has(doi), 'the peer registered it');
    assert.equal(peer.registered.get(doi).titles[0].title, 'Lung CT');
    assert.match(v1.citation, new RegExp(`\\[Data set\\]\\. OBIA Hub\\. https://doi\\.org/${doi.replace(/\./g, '\\.')}$`));
  });

  it('a failed registration is never shown as a DOI, and a curator can retry it', async () => {
    peer.password = 'rotated';
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Brain MR' });
    const released = await app.gql(`mutation { releaseCollection(accession: "${c.accession}") { released } }`, {}, curator);
    assert.equal(released.data.releaseCollection.released, true, 'the release itself stands');
    let [v1] = (await app.gql(VERSION, { a: c.accession }, curator)).data.collection.versions;
    assert.equal(v1.identifierKind, 'MINT_PENDING');
    assert.equal(v1.doi, null);
    assert.match(v1.citation, /DOI registration pending/);
    peer.password = 'right';
    const retried = await app.gql(`mutation { mintVersionDoi(collection: "${c.accession}", number: 1) { identifierKind doi } }`, {}, curator);
    assert.deepEqual(retried.data.mintVersionDoi, { identifierKind: 'DOI', doi: `${PREFIX}/${c.accession}.v1`.toLowerCase() });
    [v1] = (await app.gql(VERSION, { a: c.accession }, curator)).data.collection.versions;
    assert.equal(v1.identifierKind, 'DOI');
    const researcher = await app.token('researcher-1', Role.RESEARCHER);
    const refused = await app.gql(`mutation { mintVersionDoi(collection: "${c.accession}", number: 1) { doi } }`, {}, researcher);
    assert.equal(refused.errors![0].extensions.code, 'FORBIDDEN');
  });
  it('a retry sent many times at once registers the DOI once, and every answer shows it', async () => {
    peer.password = 'rotated';
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Liver CT' });
    await app.gql(`mutation { releaseCollection(accession: "${c.accession}") { released } }`, {}, curator);
    peer.password = 'right';
    const before = peer.requests;
    const MINT = `mutation { mintVersionDoi(collection: "${c.accession}", number: 1) { identifierKind doi } }`;
    const answers = await Promise.all(Array.from({ length: 4 }, () => app.gql(MINT, {}, curator)));
    const doi = `${PREFIX}/${c.accession}.v1`.toLowerCase();
    for (const a of answers) assert.deepEqual(a.data?.mintVersionDoi, { identifierKind: 'DOI', doi }, JSON.stringify(answers.map((x) => x.data ?? x.errors)));
    assert.equal(peer.requests - before, 1, 'one registration');
  });
});
