// Issue 22, point 1: a stored file is verified before it is served, on every read path (zip,
// single file, Range), the backup serves (and repairs) a corrupt primary, and a file bad in
// both copies fails that one download cleanly, never the hub.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { collectionWithFiles, fetchBytes, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { unzip } from '../support/zip.js';

const LINK = `mutation($t: DownloadTargetInput!) { createDownloadLink(target: $t, format: DICOM_ZIP) { url } }`;


const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('stored files are verified on every read path', () => {
  let app: TestApp;
  let store: LocalBlobStore;
  let token: string;
  let open: StoredCollection;
  let uids: string[];
  /** Overwrites one copy with the same length of other bytes (bit rot, a bad sector). */
  const corrupt = (uid: string, root: 'primaryRoot' | 'backupRoot') => {
    const bytes = open.bytes.get(uid)!;
    const bad = Buffer.from(bytes); bad[bad.length - 10] ^= 0xff; bad[200] ^= 0x01;
    fs.writeFileSync(store.pathIn(store[root], sha(bytes)), bad);
  };
  const restore = (uid: string) => { for (const root of [store.primaryRoot, store.backupRoot]) fs.writeFileSync(store.pathIn(root, sha(open.bytes.get(uid)!)), open.bytes.get(uid)!); };
  const imageUrl = async (uid: string) => {
    const link = await app.gql(LINK, { t: { collection: open.accession } }, token);
    return link.data.createDownloadLink.url.replace('/archive.zip', `/images/${uid}.dcm`);
  };
  const alive = async () => assert.equal((await app.gql('{ collections(first: 1) { totalCount } }')).status, 200, 'the hub still answers');

  before(async () => {
    app = await startTestApp();
    store = LocalBlobStore.fromConfig(app.config);
    open = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'integrity' }, { individuals: 1, studies: 1, series: 2, images: 4 });
    uids = [...open.bytes.keys()];
    token = await app.token('integrity-user', Role.RESEARCHER);
  });
  after(async () => { await app?.stop(); });

  it('a zip with a corrupt primary copy carries the intact backup, and the primary is repaired', async () => {
    corrupt(uids[0]!, 'primaryRoot');
    const link = await app.gql(LINK, { t: { collection: open.accession } }, token);
    const res = await fetchBytes(link.data.createDownloadLink.url, token);
    assert.equal(res.status, 200);
    const files = await unzip(res.body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.equal(manifest.complete, true);
    assert.equal(manifest.files.length, uids.length);
    for (const entry of manifest.files) {
      assert.equal(entry.error, undefined);
      assert.deepEqual(files.get(entry.path), open.bytes.get(entry.sopInstanceUid), entry.path);
    }
    assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha(open.bytes.get(uids[0]!)!))), open.bytes.get(uids[0]!), 'primary repaired');
  });

  it('a zip that includes a file bad in both copies completes without it, says so in the manifest, and the hub lives on', async () => {
    const [bad, ...good] = [uids[1]!, ...uids.filter((u) => u !== uids[1])];
    corrupt(bad, 'primaryRoot'); corrupt(bad, 'backupRoot');
    const link = await app.gql(LINK, { t: { collection: open.accession } }, token);
    for (let i = 0; i < 3; i++) {
      const res = await fetchBytes(link.data.createDownloadLink.url, token);
      assert.equal(res.status, 200);
      const files = await unzip(res.body);
      const manifest = JSON.parse(files.get('manifest.json')!.toString());
      assert.equal(manifest.complete, false);
      assert.equal(manifest.failed, 1);
      const entry = manifest.files.find((f: any) => f.sopInstanceUid === bad);
      assert.equal(entry.error, 'CORRUPT');
      assert.equal(files.has(entry.path), false, 'no corrupt bytes in the zip');
      for (const uid of good) assert.deepEqual(files.get(manifest.files.find((f: any) => f.sopInstanceUid === uid).path), open.bytes.get(uid));
      await alive();
    }
    restore(bad);
  });

  it('a single file or a Range of it with a corrupt primary is served from the backup', async () => {
    const uid = uids[2]!;
    const whole = open.bytes.get(uid)!;
    const url = await imageUrl(uid);
    corrupt(uid, 'primaryRoot');
    const range = await fetchBytes(url, token, { range: 'bytes=100-199' });
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, whole.subarray(100, 200));
    corrupt(uid, 'primaryRoot');
    const tail = await fetchBytes(url, token, { range: `bytes=-20` });
    assert.deepEqual(tail.body, whole.subarray(whole.length - 20), 'the corrupt tail is never served');
    corrupt(uid, 'primaryRoot');
    const full = await fetchBytes(url, token);
    assert.equal(full.status, 200);
    assert.deepEqual(full.body, whole);
    assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha(whole))), whole, 'primary repaired');
  });

  it('a single file or a Range of it bad in both copies is a 500 before any byte, and the hub lives on', async () => {
    const uid = uids[3]!;
    const url = await imageUrl(uid);
    corrupt(uid, 'primaryRoot'); corrupt(uid, 'backupRoot');
    for (const headers of [{}, { range: 'bytes=0-99' }, { range: 'bytes=-10' }] as Record<string, string>[]) {
      const res = await fetchBytes(url, token, headers);
      assert.equal(res.status, 500);
      assert.match(res.headers.get('content-type') ?? '', /json/, 'an error body, not DICOM bytes');
      assert.match(JSON.parse(res.body.toString()).error, /integrity/);
      await alive();
    }
    restore(uid);
    assert.equal((await fetchBytes(url, token)).status, 200, 'served again once an intact copy is back');
  });

  it('a file missing from the primary is served from the backup and the primary put back', async () => {
    const uid = uids[4]!;
    const whole = open.bytes.get(uid)!;
    fs.rmSync(store.pathIn(store.primaryRoot, sha(whole)));
    const res = await fetchBytes(await imageUrl(uid), token, { range: 'bytes=0-9' });
    assert.deepEqual(res.body, whole.subarray(0, 10));
    assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha(whole))), whole);
  });

  it('a thumbnail rendered from the archived file reads it verified: backup for a corrupt primary, 500 for a file bad in both', async () => {
    const uid = uids[5]!;
    corrupt(uid, 'primaryRoot');
    const ok = await fetchBytes(`${app.url}/thumbnails/${uid}.png`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'image/png');
    assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha(open.bytes.get(uid)!))), open.bytes.get(uid), 'primary repaired');
    const other = uids[6]!;
    corrupt(other, 'primaryRoot'); corrupt(other, 'backupRoot');
    assert.equal((await fetchBytes(`${app.url}/thumbnails/${other}.png`)).status, 500);
    await alive();
    restore(other);
  });
});
