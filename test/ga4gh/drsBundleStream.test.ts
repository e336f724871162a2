// A collection version's DRS bundle of 100,000 images (about 19 MB of contents) was read in one
// statement and built whole in memory before the first byte went out, for any caller, anonymous
// included; a bulk request read and built a bundle before its bound refused it. Now a single
// bundle is streamed a batch of rows at a time, and bulk answers count before they read.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { CONTENTS_BATCH } from '../../src/ga4gh/drs/DrsService.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { drs, startDrs, type DrsServer } from './support.js';

const EXTRA = 100_000;
const bundleSum = (shas: string[]) => crypto.createHash('sha256').update([...shas].sort().join('')).digest('hex');

describe('DRS bundles of large collection versions', () => {
  let app: TestApp;
  let server: DrsServer;
  let open: StoredCollection;
  let shas: string[];
  /** Rows each statement on release_manifest_entry answered, in order. */
  const reads: number[] = [];
  const listen = (response: unknown, query: { sql?: string }) => {
    if (/release_manifest_entry/.test(query?.sql ?? '') && Array.isArray(response)) reads.push(response.length);
  };

  before(async () => {
    app = await startTestApp();
    server = await startDrs(app);
    const curator = await app.token('curator-1', Role.CURATOR);
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Large open CT' });
    await app.gql(`mutation { releaseCollection(accession: "${open.accession}") { released } }`, {}, curator);
    // The version grows to 100,004 images: manifest rows written directly (seeded digests), and
    // the version's stored totals made to match, as cutting it would have.
    const knex = (app.orm.em.fork() as EntityManager).getKnex();
    const v = await knex('collection_version as v').join('collection as c', 'c.id', 'v.collection_id').where('c.accession', open.accession).first('v.id');
    const first = await knex('release_manifest_entry').where('version_id', v.id).first();
    const rows = Array.from({ length: EXTRA }, (_, i) => ({
      ...first, id: undefined, sop_instance_uid: `1.2.826.0.1.3680043.10.999.${i + 1}`,
      sha256: crypto.createHash('sha256').update(`seeded ${i}`).digest('hex'), size: 1000 + i,
    }));
    await knex.batchInsert('release_manifest_entry', rows, 500);
    const all = await knex('release_manifest_entry').where('version_id', v.id).select('sha256', 'size');
    shas = all.map((r: any) => r.sha256);
    await knex('collection_version').where('id', v.id).update({
      image_count: all.length, total_size: all.reduce((s: number, r: any) => s + Number(r.size), 0), bundle_sha256: bundleSum(shas),
    });
    (app.orm.em as unknown as EntityManager).getKnex().on('query-response', listen);
  });
  after(async () => {
    (app?.orm.em as unknown as EntityManager | undefined)?.getKnex().off('query-response', listen);
    await server?.close();
    await app?.stop();
  });

  it('a version of 100,004 images is streamed a batch at a time: the first bytes come before its rows are read', async () => {
    reads.length = 0;
    const res = await fetch(`${server.url}/objects/${open.accession}.v1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const reader = res.body!.getReader();
    const chunk = await reader.read();
    assert.ok(chunk.value && chunk.value.length > 0);
    const readSoFar = reads.reduce((s, n) => s + n, 0);
    await reader.cancel();
    // Before: one statement of all 100,004 rows, read and built before the first byte.
    assert.ok(readSoFar < EXTRA / 2, `rows read before the first bytes: ${readSoFar}`);
  });

  it('the streamed answer is the whole bundle: every image once, the stored size and checksum', async () => {
    reads.length = 0;
    const res = await drs('GET', `${server.url}/objects/${open.accession}.v1?expand=true`);
    assert.equal(res.status, 200);
    assert.equal(res.body.contents.length, EXTRA + 4);
    assert.equal(new Set(res.body.contents.map((c: any) => c.id)).size, EXTRA + 4);
    assert.deepEqual(res.body.checksums, [{ checksum: bundleSum(shas), type: 'sha-256' }]);
    assert.equal(res.body.version, 'v1');
    assert.match(res.body.contents[EXTRA + 3].drs_uri[0], /^drs:\/\//);
    assert.ok(reads.length >= EXTRA / CONTENTS_BATCH, `statements: ${reads.length}`);
    assert.ok(Math.max(...reads) <= CONTENTS_BATCH, `largest statement: ${Math.max(...reads)} rows`);
    // POST answers the same.
    const posted = await drs('POST', `${server.url}/objects/${open.accession}.v1`, { body: {} });
    assert.deepEqual(posted.body, res.body);
  });

  it('a bulk request refuses a bundle past its bound (413) before reading its rows', async () => {
    for (const bounded of [server, await startDrs(app, undefined, { maxBulkContents: 50_000 })]) {
      try {
        reads.length = 0;
        const res = await drs('POST', `${bounded.url}/objects`, { body: { bulk_object_ids: [open.series[0], `${open.accession}.v1`] } });
        assert.equal(res.status, 413);
        assert.equal(res.body.status_code, 413);
        assert.match(res.body.msg, /GET \/objects\/\{id\}/);
        // Before: the 100,004 rows were read and built, then refused.
        assert.equal(reads.reduce((s, n) => s + n, 0), 0);
      } finally {
        if (bounded !== server) await bounded.close();
      }
    }
    // Under the bound, the bulk answer is whole.
    const ok = await drs('POST', `${server.url}/objects`, { body: { bulk_object_ids: [open.series[0], open.series[1]] } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.summary.resolved, 2);
    assert.equal(ok.body.resolved_drs_object[0].contents.length, 2);
  });
});
