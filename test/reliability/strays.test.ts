// Issue 22, point 1: `npm run verify-storage` finds what no row accounts for (orphan blobs,
// received bytes no file row names, stale temporary files), reports it, and removes it only
// when asked, never touching a referenced blob or anything still being written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';

const CLI = path.resolve(__dirname, '../../src/storage/verify.js');
const HOURS_AGO = (h: number) => new Date(Date.now() - h * 3600_000);

describe('verify-storage finds orphan blobs and stale temporary files', () => {
  let app: TestApp;
  let store: LocalBlobStore;
  let kept: StoredCollection;
  const planted: Record<string, string> = {};

  const age = (file: string, hours: number) => fs.utimesSync(file, HOURS_AGO(hours), HOURS_AGO(hours));
  const run = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], {
    env: {
      ...process.env, OBIA_DATA_DIR: app.config.dataDir, OBIA_BACKUP_DIR: app.config.backupDir, OBIA_STAGING_DIR: app.config.stagingDir,
      OBIA_KEYS_DIR: app.config.keysDir, DATABASE_URL: app.config.databaseUrl ?? '',
    },
  }).toString();

  before(async () => {
    app = await startTestApp();
    store = LocalBlobStore.fromConfig(app.config);
    kept = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'kept' });
    // Every referenced blob is old too: age alone must never make a blob a stray.
    for (const bytes of kept.bytes.values()) for (const root of [store.primaryRoot, store.backupRoot]) age(store.pathIn(root, crypto.createHash('sha256').update(bytes).digest('hex')), 48);
    planted.orphan = await store.put(crypto.randomBytes(4000));
    for (const root of [store.primaryRoot, store.backupRoot]) age(store.pathIn(root, planted.orphan), 3);
    planted.fresh = await store.put(crypto.randomBytes(4000));
    planted.temp = `${store.pathIn(store.primaryRoot, planted.orphan)}.4242.0123456789ab.tmp`;
    fs.writeFileSync(planted.temp, 'half a blob'); age(planted.temp, 2);
    const sub = path.join(app.config.stagingDir, 'submissions', '999');
    fs.mkdirSync(sub, { recursive: true });
    planted.upload = path.join(sub, `.upload-${crypto.randomUUID()}`);
    fs.writeFileSync(planted.upload, 'part of a body'); age(planted.upload, 2);
    planted.staged = path.join(sub, crypto.randomUUID());
    fs.writeFileSync(planted.staged, 'received, never recorded'); fs.writeFileSync(`${planted.staged}.name`, 'patient-name.dcm');
    age(planted.staged, 2);
    fs.mkdirSync(path.join(app.config.dataDir, 'tmp'), { recursive: true });
    planted.manifest = path.join(app.config.dataDir, 'tmp', `manifest-${crypto.randomUUID()}.json`);
    fs.writeFileSync(planted.manifest, '{'); age(planted.manifest, 2);
  });
  after(async () => { await app?.stop(); });

  it('reports them without deleting anything unless asked', () => {
    const out = run();
    assert.match(out, /found 1 orphan blobs, 1 orphan received files, 3 stale temporary files/);
    assert.match(out, new RegExp(`orphan blob ${planted.orphan}`));
    assert.doesNotMatch(out, new RegExp(planted.fresh!), 'a blob written a moment ago may be waiting for its row');
    assert.doesNotMatch(out, /patient-name/, 'names sent by submitters are never printed');
    for (const f of [planted.temp, planted.upload, planted.staged, planted.manifest]) assert.ok(fs.existsSync(f!));
  });

  it('removes them with --remove and keeps every referenced and recent blob', () => {
    assert.match(run('--remove'), /removed 1 orphan blobs, 1 orphan received files, 3 stale temporary files/);
    for (const f of [planted.temp, planted.upload, planted.staged, `${planted.staged}.name`, planted.manifest]) assert.equal(fs.existsSync(f!), false, f);
    for (const root of [store.primaryRoot, store.backupRoot]) {
      assert.equal(fs.existsSync(store.pathIn(root, planted.orphan!)), false);
      assert.ok(fs.existsSync(store.pathIn(root, planted.fresh!)));
    }
    for (const bytes of kept.bytes.values()) assert.ok(fs.existsSync(store.pathIn(store.primaryRoot, crypto.createHash('sha256').update(bytes).digest('hex'))));
    assert.match(run(), /found 0 orphan blobs, 0 orphan received files, 0 stale temporary files/);
  });
});
