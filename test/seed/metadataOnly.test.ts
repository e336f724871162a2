// Issue 13, point 5: the full-scale benchmark seed writes metadata rows without files. The API
// says so (Image.stored), the thumbnail route answers a 404 that says why, a download's manifest
// lists them apart with the reason, and their hash codes are real images' codes, never noise.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { poolCodes } from '../../seeds/poolCodes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { unzip } from './support.js';

describe('metadata-only rows of the benchmark seed are honest about having no file', () => {
  let app: TestApp;
  let token: string;
  const knex = () => (app.orm.em as EntityManager).getKnex();
  before(async () => {
    app = await startTestApp({ seedScale: 0.002 });
    token = await app.token('metadata-reader', Role.ADMIN);
  });
  after(async () => { await app?.stop(); });

  it('says stored: false, and the thumbnail route answers 404 with the reason', async () => {
    const { uid } = await knex()('image').first('uid');
    const res = await app.gql(`query($uid: String!) { image(uid: $uid) { uid stored thumbnailUrl } }`, { uid }, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data.image.stored, false);
    const thumb = await fetch(`${app.url}${res.data.image.thumbnailUrl}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(thumb.status, 404);
    assert.match(((await thumb.json()) as { error: string }).error, /holds no DICOM file for it \(a metadata-only row/);
  });

  it('lists them apart in a download\'s manifest, with the reason, instead of a bare MISSING.txt', async () => {
    const link = await app.gql(`mutation { createDownloadLink(target: { collection: "OBIA0004" }, format: DICOM_ZIP) { url } }`, {}, token);
    assert.equal(link.errors, undefined, JSON.stringify(link.errors));
    const zip = await unzip(Buffer.from(await (await fetch(link.data.createDownloadLink.url, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer()));
    assert.deepEqual([...zip.keys()], ['manifest.json']);
    const manifest = JSON.parse(zip.get('manifest.json')!.toString());
    const rows = Number((await knex()('image as i').join('series as s', 's.id', 'i.series_id').join('collection as c', 'c.id', 's.collection_id')
      .where('c.accession', 'OBIA0004').count({ n: '*' }))[0]!.n);
    assert.deepEqual(manifest.files, []);
    assert.equal(manifest.notHeld.files.length, rows);
    assert.match(manifest.notHeld.reason, /metadata-only row/);
    assert.ok(manifest.notHeld.files.every((f: any) => f.sopInstanceUid && f.path.startsWith('OBIA0004/')));
  });

  it('gives them real images\' hash codes (or none), so similarity over them is not noise', async () => {
    const pool = await poolCodes();
    const real = new Set([...pool.byModality.values()].flat());
    const rows: { hash_code: string | null; modality: string }[] = await knex()('image as i').join('series as s', 's.id', 'i.series_id').select('i.hash_code', 's.modality');
    assert.ok(rows.length > 500);
    for (const r of rows) {
      if (pool.byModality.has(r.modality)) assert.ok(real.has(r.hash_code!), `${r.modality} row has a real image's code`);
      else assert.equal(r.hash_code, null, `${r.modality} has no real source: no code`);
    }
    // Rows without a code are not in the index: similarImages never returns them.
    const withCode = rows.filter((r) => r.hash_code).length;
    assert.ok(withCode < rows.length && app.hashCatalog.index.size === withCode);
  });
});
