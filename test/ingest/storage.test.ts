// The blob store: both copies written and verified, a corrupt primary served from (and
// repaired from) the backup, and verify-storage repairing either side.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, LocalBlobStore } from '../../src/storage/BlobStore.js';
import { DirectIo } from '../../src/storage/directIo.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

describe('blob store', () => {
  let dir: string;
  let store: LocalBlobStore;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-blobs-'));
    store = new LocalBlobStore(path.join(dir, 'primary'), path.join(dir, 'backup'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes both copies under the content hash, idempotently', async () => {
    const bytes = crypto.randomBytes(5000);
    const sha = await store.put(bytes);
    assert.equal(sha, crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha)), bytes);
    assert.deepEqual(fs.readFileSync(store.pathIn(store.backupRoot, sha)), bytes);
    assert.equal(await store.put(bytes), sha);
    assert.deepEqual(fs.readdirSync(path.dirname(store.pathIn(store.primaryRoot, sha))), [sha], 'no temp files left');
  });

  it('stores blobs of every size exactly, whatever their length against the device block', async () => {
    // put() writes durable copies to the device directly, in whole blocks, cut back to their length.
    const sizes = [0, 1, 511, 512, 513, 4095, 4096, 4097, 524_288 + 1502, 3 * 1024 * 1024 + 7];
    const blobs = sizes.map((size) => crypto.randomBytes(size));
    // Several at once, as an ingest worker has them in flight.
    const shas = await Promise.all(blobs.map((b) => store.put(b)));
    for (const [i, size] of sizes.entries()) {
      const bytes = blobs[i]!;
      const sha = shas[i]!;
      assert.deepEqual(fs.readFileSync(store.pathIn(store.primaryRoot, sha)), bytes, `primary copy of ${size} bytes`);
      assert.deepEqual(fs.readFileSync(store.pathIn(store.backupRoot, sha)), bytes, `backup copy of ${size} bytes`);
      assert.deepEqual(await store.get(sha), bytes);
    }
    for (const root of [store.primaryRoot, store.backupRoot]) {
      assert.deepEqual(fs.readdirSync(root).filter((f) => !/^[0-9a-f]{2}$/.test(f)), [], 'no probe files left in the root');
    }
  });

  it('a read-back from the device accepts only a file of exactly the blob', async (t) => {
    // A whole number of blocks is the case where a longer file could otherwise pass.
    const io = new DirectIo();
    const bytes = crypto.randomBytes(8192);
    const file = (name: string, content: Buffer) => { fs.writeFileSync(path.join(dir, name), content); return path.join(dir, name); };
    const same = await io.holds(dir, file('same', bytes), bytes);
    if (same === null) return t.skip(`no direct I/O on ${dir}`);
    assert.equal(same, true);
    assert.equal(await io.holds(dir, file('longer', Buffer.concat([bytes, bytes.subarray(0, 4096)])), bytes), false);
    assert.equal(await io.holds(dir, file('shorter', bytes.subarray(0, 4096)), bytes), false);
    const flipped = Buffer.from(bytes); flipped[5000] ^= 1;
    assert.equal(await io.holds(dir, file('flipped', flipped), bytes), false);
    assert.equal(await io.holds(dir, path.join(dir, 'missing'), bytes), false);
  });

  it('falls back to buffered writes on a filesystem without direct I/O (tmpfs)', { skip: !fs.existsSync('/dev/shm') && 'no /dev/shm' }, async () => {
    const shm = fs.mkdtempSync('/dev/shm/obia-blobs-');
    try {
      const onTmpfs = new LocalBlobStore(path.join(shm, 'primary'), path.join(dir, 'backup-on-disk'));
      for (const size of [10, 600_001]) {
        const bytes = crypto.randomBytes(size);
        const sha = await onTmpfs.put(bytes);
        assert.deepEqual(fs.readFileSync(onTmpfs.pathIn(onTmpfs.primaryRoot, sha)), bytes);
        assert.deepEqual(fs.readFileSync(onTmpfs.pathIn(onTmpfs.backupRoot, sha)), bytes);
      }
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it('keeps storing after a root is wiped by hand (its directories are made again)', async () => {
    const wiped = new LocalBlobStore(path.join(dir, 'wiped-a'), path.join(dir, 'wiped-b'));
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    // Two blobs in the same one of the 256 directories, so the second write meets a directory the store believes exists.
    const first = Buffer.from('blob 0');
    let i = 1;
    while (sha(Buffer.from(`blob ${i}`)).slice(0, 2) !== sha(first).slice(0, 2)) i++;
    await wiped.put(first);
    wiped.putSync(Buffer.from('another'));
    fs.rmSync(wiped.primaryRoot, { recursive: true });
    fs.rmSync(wiped.backupRoot, { recursive: true });
    const second = Buffer.from(`blob ${i}`);
    assert.equal(await wiped.put(second), sha(second));
    const third = Buffer.from(`blob ${i}`.repeat(3));
    fs.rmSync(wiped.primaryRoot, { recursive: true });
    assert.equal(wiped.putSync(third), sha(third));
    assert.deepEqual(fs.readFileSync(wiped.pathIn(wiped.backupRoot, sha(second))), second);
    assert.deepEqual(fs.readFileSync(wiped.pathIn(wiped.primaryRoot, sha(third))), third);
  });

  it('serves a corrupt or missing primary from the backup and repairs it', async () => {
    const bytes = crypto.randomBytes(3000);
    const sha = await store.put(bytes);
    const primary = store.pathIn(store.primaryRoot, sha);
    const flipped = Buffer.from(bytes); flipped[100] ^= 0xff;
    fs.writeFileSync(primary, flipped);
    assert.deepEqual(await store.get(sha), bytes);
    assert.deepEqual(fs.readFileSync(primary), bytes, 'primary repaired');
    fs.rmSync(primary);
    assert.deepEqual(await store.get(sha), bytes);
    assert.ok(fs.existsSync(primary));
  });

  it('verifyAll repairs either side and reports what is lost in both', async () => {
    const a = crypto.randomBytes(100), b = crypto.randomBytes(100), c = crypto.randomBytes(100);
    const [sa, sb, sc] = [await store.put(a), await store.put(b), await store.put(c)];
    fs.writeFileSync(store.pathIn(store.primaryRoot, sa), 'x');
    fs.rmSync(store.pathIn(store.backupRoot, sb));
    fs.writeFileSync(store.pathIn(store.primaryRoot, sc), 'y');
    fs.writeFileSync(store.pathIn(store.backupRoot, sc), 'z');
    const report = await store.verifyAll();
    assert.deepEqual(report.repairedPrimary, [sa]);
    assert.deepEqual(report.repairedBackup, [sb]);
    assert.deepEqual(report.lost, [sc]);
    assert.deepEqual(await store.get(sa), a);
    assert.deepEqual(fs.readFileSync(store.pathIn(store.backupRoot, sb)), b);
    await assert.rejects(store.get(sc), BlobNotFoundError);
  });

  it('`verify-storage` re-hashes both roots from the environment and exits 1 when a blob is lost', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-verify-'));
    const s = LocalBlobStore.fromConfig({ dataDir: data, backupDir: path.join(data, 'other-disk') });
    const sha = await s.put(Buffer.from('hello archive'));
    fs.writeFileSync(s.pathIn(s.primaryRoot, sha), 'broken');
    const cli = path.resolve(__dirname, '../../src/storage/verify.js');
    const out = execFileSync(process.execPath, [cli], { env: { ...process.env, OBIA_DATA_DIR: data, OBIA_BACKUP_DIR: path.join(data, 'other-disk') } }).toString();
    assert.match(out, /checked 1 blobs: repaired 1 primary, 0 backup, lost 0/);
    assert.equal(fs.readFileSync(s.pathIn(s.primaryRoot, sha), 'utf8'), 'hello archive');
    fs.writeFileSync(s.pathIn(s.primaryRoot, sha), 'a'); fs.writeFileSync(s.pathIn(s.backupRoot, sha), 'b');
    assert.throws(() => execFileSync(process.execPath, [cli], { env: { ...process.env, OBIA_DATA_DIR: data, OBIA_BACKUP_DIR: path.join(data, 'other-disk') }, stdio: 'pipe' }));
    fs.rmSync(data, { recursive: true, force: true });
  });
});

describe('an ingested image with a corrupt primary copy', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  it('is still read correctly, from the backup', async () => {
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'B-1', studyUid: uid(), seriesUid: uid(), sopUid: uid() }));
    await processToEnd(app, token, sub.id);
    const [file] = (await fetchSubmission(app, token, sub.id)).files;
    const store = LocalBlobStore.fromConfig(app.config);
    const good = fs.readFileSync(store.pathIn(store.backupRoot, file.storedSha256));
    fs.writeFileSync(store.pathIn(store.primaryRoot, file.storedSha256), Buffer.alloc(good.length));
    assert.deepEqual(await store.get(file.storedSha256), good);
  });
});
