// Issue 18, point 1: the S3 blob store on a real Ceph RGW (scripts/ceph-rgw.sh, one per file):
// Content-MD5-checked writes (single PUT and multipart), reads re-hashed whole before the first
// byte, a corrupt primary served from the backup and repaired, corrupt in both a clean
// STORAGE_CORRUPT, Range reads streamed from S3, and `verify-storage` finding an orphan and a
// missing backup copy. The hub itself runs on the store: downloads come out of the buckets.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { S3BlobStore } from '../../src/storage/S3BlobStore.js';
import { readAll, type BlobStoreSpec, type S3Location } from '../../src/storage/store.js';
import { BlobCorruptError } from '../../src/storage/VerifiedReader.js';
import { collectionWithFiles } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';
import { mulberry32 } from '../support/random.js';

runsOnce('its subject is the S3 store on Ceph; the catalogue side of verify-storage runs on both databases in ingest/storage');

const ROOT = path.resolve(__dirname, '../../..');
const RGW = path.join(ROOT, 'scripts/ceph-rgw.sh');
const CLI = path.resolve(__dirname, '../../src/storage/verify.js');
const PART = 5 * 1024 * 1024;
const cephInstalled = ['radosgw', 'ceph-mon', 'ceph-osd', 'ceph-mgr'].every((b) => fs.existsSync(`/usr/bin/${b}`));
const skip = !cephInstalled && process.env.CI !== 'true' ? 'Ceph (radosgw, ceph-mon, ceph-osd, ceph-mgr) is not installed; .ci/run installs it (required under CI=true)' : false;

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

function seededBytes(seed: number, n: number): Buffer {
  const rnd = mulberry32(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

async function spare(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

describe('S3 blob store on Ceph RGW', { skip }, () => {
  let dir: string;
  let env: Record<string, string>;
  let raw: S3Client;
  let spec: Extract<BlobStoreSpec, { kind: 's3' }>;
  let store: S3BlobStore;
  let app: TestApp;
  const buckets = { primary: `obia-a-${crypto.randomBytes(4).toString('hex')}`, backup: `obia-b-${crypto.randomBytes(4).toString('hex')}` };
  const key = (s: string) => `blobs/${s.slice(0, 2)}/${s}`;
  const rawGet = async (bucket: string, s: string) => readAll((await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key(s) }))).Body as Readable);
  const rawPut = (bucket: string, s: string, body: Buffer) => raw.send(new PutObjectCommand({ Bucket: bucket, Key: key(s), Body: body }));
  const instanceUrl = async (series: string, uid: string) => {
    const study = await (app.orm.em.fork() as EntityManager).getKnex()('series as se').join('study as st', 'st.id', 'se.study_id').where('se.uid', series).first('st.study_instance_uid as uid');
    return `${app.url}/dicom-web/studies/${study.uid}/series/${series}/instances/${uid}`;
  };
  const exists = (bucket: string, s: string) => raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key(s) })).then(() => true, () => false);

  before(async () => {
    if (!cephInstalled) assert.fail('CI=true and Ceph is not installed: .ci/run must install ceph-mon ceph-osd ceph-mgr radosgw ceph-common');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-rgw-'));
    const out = execFileSync('bash', [RGW, 'start', dir, String(await spare())], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    env = Object.fromEntries(out.split('\n').filter((l) => /^AWS_[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const loc = (bucket: string): S3Location => ({
      endpoint: env.AWS_ENDPOINT_URL!, region: env.AWS_REGION!, bucket, prefix: 'blobs/', forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    spec = { kind: 's3', primary: loc(buckets.primary), backup: loc(buckets.backup), partBytes: PART };
    store = new S3BlobStore(spec);
    await store.ensureBuckets();
    raw = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION, forcePathStyle: true, credentials: spec.primary.credentials!, requestChecksumCalculation: 'WHEN_REQUIRED' });
    app = await startTestApp({ config: { blobStore: spec } });
  });

  after(async () => {
    await app?.stop();
    await store?.close();
    raw?.destroy();
    if (dir) {
      execFileSync('bash', [RGW, 'stop', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores a blob in both buckets and reads it back verified (single PUT and multipart)', async () => {
    const small = seededBytes(1, 512 * 1024);
    const s = await store.put(small);
    assert.equal(s, sha(small));
    assert.deepEqual(await rawGet(buckets.primary, s), small);
    assert.deepEqual(await rawGet(buckets.backup, s), small);
    assert.deepEqual(await store.get(s), small);

    // Over two parts: a multipart upload, each part with its Content-MD5, streamed in from an iterable of chunks.
    const big = seededBytes(2, 2 * PART + 12345);
    const b = sha(big);
    await store.putStream(b, (function* () { for (let at = 0; at < big.length; at += 300_000) yield big.subarray(at, at + 300_000); })());
    const head = await raw.send(new HeadObjectCommand({ Bucket: buckets.primary, Key: key(b) }));
    assert.match(head.ETag ?? '', /-3"$/, 'three parts');
    assert.ok(await exists(buckets.backup, b));
    const blob = (await store.open(b))!;
    assert.equal(blob.size, big.length);
    assert.equal(sha(await readAll(blob.stream())), b);
    assert.deepEqual((await store.stat(b)).backup?.size, big.length);
  });

  it('refuses bytes that do not hash to the name given, storing nothing', async () => {
    const bytes = seededBytes(3, PART + 10);
    const claimed = sha(Buffer.from('something else'));
    await assert.rejects(store.putStream(claimed, [bytes]), /hash to another sha256/);
    assert.equal(await exists(buckets.primary, claimed), false);
    assert.deepEqual(await store.stat(claimed), { primary: null, backup: null });
  });

  it('serves a corrupt primary from the backup and repairs the primary', async () => {
    const bytes = seededBytes(4, 300_000);
    const s = await store.put(bytes);
    const bad = Buffer.from(bytes); bad[1000] ^= 0xff;
    await rawPut(buckets.primary, s, bad);
    store.forget();
    const blob = (await store.open(s))!;
    assert.deepEqual(await readAll(blob.stream()), bytes);
    assert.deepEqual(await rawGet(buckets.primary, s), bytes, 'the primary object holds the right bytes again');
    // A missing primary likewise.
    await raw.send(new DeleteObjectCommand({ Bucket: buckets.primary, Key: key(s) }));
    store.forget();
    assert.deepEqual(await store.get(s), bytes);
    assert.deepEqual(await rawGet(buckets.primary, s), bytes);
  });

  it('fails cleanly with STORAGE_CORRUPT when both copies are bad, before any byte', async () => {
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 's3-corrupt' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const [uid, bytes] = [...c.bytes.entries()][0]!;
    const s = sha(bytes);
    const bad = Buffer.from(bytes); bad[bad.length - 1] ^= 0x01;
    await rawPut(buckets.primary, s, bad);
    await rawPut(buckets.backup, s, bad);
    store.forget();
    app.door.ingest!.store.forget();
    await assert.rejects(store.open(s), BlobCorruptError);
    const res = await fetch(await instanceUrl(c.series[0]!, uid), { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*', authorization: `Bearer ${await app.token('s3-reader')}` } });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /STORAGE_CORRUPT|integrity check/);
    const health = await fetch(`${app.url}/health`);
    assert.equal(health.status, 200, 'the hub is still up');
    // Lost for good: removed, so verify-storage below has nothing it cannot repair.
    await store.delete(s);
  });

  it('streams Range requests from S3, across a part boundary too', async () => {
    const big = seededBytes(5, PART + 200_000);
    const b = await store.put(big);
    for (const [start, end] of [[0, 0], [10, 99_999], [PART - 100, PART + 100], [big.length - 7, big.length - 1]] as const) {
      const blob = (await store.open(b))!;
      assert.deepEqual(await readAll(blob.stream({ start, end })), big.subarray(start, end + 1), `bytes ${start}-${end}`);
    }
  });

  it('serves the hub\'s downloads from the buckets (the app runs on the S3 store)', async () => {
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 's3-download' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const [uid, bytes] = [...c.bytes.entries()][0]!;
    assert.ok(await exists(buckets.primary, sha(bytes)) && await exists(buckets.backup, sha(bytes)));
    const res = await fetch(await instanceUrl(c.series[0]!, uid), { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*', authorization: `Bearer ${await app.token('s3-reader')}` } });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.includes(bytes), 'the part holds the stored file');
  });

  it('verify-storage finds an orphan and a missing backup copy, repairs the backup and removes the orphan when asked', async () => {
    const orphan = await store.put(seededBytes(6, 20_000));
    const c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 's3-verify' }, { individuals: 1, studies: 1, series: 1, images: 1 });
    const held = sha([...c.bytes.values()][0]!);
    await raw.send(new DeleteObjectCommand({ Bucket: buckets.backup, Key: key(held) }));
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, '--min-age', '0', ...args], {
      env: {
        ...process.env, ...env, OBIA_DATA_DIR: app.config.dataDir, OBIA_BACKUP_DIR: app.config.backupDir, OBIA_STAGING_DIR: app.config.stagingDir,
        OBIA_KEYS_DIR: app.config.keysDir, DATABASE_URL: app.config.databaseUrl ?? '',
        OBIA_BLOB_STORE: 's3', OBIA_S3_BUCKET: buckets.primary, OBIA_S3_BACKUP_BUCKET: buckets.backup,
      },
      });
      assert.equal(r.status, 0, `verify-storage: ${r.stdout}${r.stderr}`);
      return r.stdout.toString();
    };
    const first = run();
    assert.match(first, new RegExp(`repaired backup ${held}`));
    assert.match(first, new RegExp(`orphan blob ${orphan}`));
    assert.doesNotMatch(first, new RegExp(`orphan blob ${held}`));
    assert.deepEqual(await rawGet(buckets.backup, held), [...c.bytes.values()][0]);
    assert.equal(await exists(buckets.primary, orphan), true, 'reported, not removed');
    run('--remove');
    assert.equal(await exists(buckets.primary, orphan), false);
    assert.equal(await exists(buckets.backup, orphan), false);
    assert.equal(await exists(buckets.primary, held), true);
  });
});
