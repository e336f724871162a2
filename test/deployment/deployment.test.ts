// `npm run test:deployment` (issue 18, point 5): the whole scaled-out archive on one machine, every
// part started by the project's own scripts on loopback ports, under one temp dir, and stopped
// after (also on failure): a one-host Ceph RGW (scripts/ceph-rgw.sh) holding the blobs in two
// buckets, a Redis of its own, a MariaDB primary and its GTID replica (scripts/mariadb-replica.sh),
// two hub processes behind the federation gateway (round robin), and two `npm run worker`
// processes. A submission of FILES real DICOM files goes in through hub A while a subscriber on
// hub B watches its progress; once that progress passes a seeded share of the files, the next
// batch one worker takes is the moment it is SIGKILLed. Afterwards: every file accounted for
// exactly once, both buckets hold exactly the stored blobs, each hashing to its name (read with
// the S3 SDK), a download through hub B is the stored bytes, and `similarImages` on hub B (and
// through the gateway) finds the new images. Prints a summary with timings as it goes.
// Not part of `npm test` (test/run.mjs leaves test/deployment/ out): it needs ~2 minutes and Ceph.
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import mysql from 'mysql2/promise';
import { startGateway } from '../../federation/gateway/gateway.js';
import { LocalIssuer } from '../../src/auth/issuer.js';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { S3BlobStore } from '../../src/storage/S3BlobStore.js';
import { readAll, type BlobStoreSpec, type S3Location } from '../../src/storage/store.js';
import { makeCt, uid } from '../ingest/helpers.js';
import { startReplica, startWorker, stopChild, subscriber } from '../scale/processes.js';
import { sparePort, startRedis, type TestRedis } from '../scale/redis.js';
import { seededRandom } from '../support/random.js';

const FILES = Number(process.env.OBIA_DEPLOYMENT_FILES) || 500;
const BATCH = 10;
// Short, so the survivor takes the victim's jobs within seconds; long enough for a busy machine's workers to keep theirs.
const LOCK_MS = 5000;
const ROOT = path.resolve(__dirname, '../../..');
const RGW = path.join(ROOT, 'scripts/ceph-rgw.sh');
const MARIADB = path.join(ROOT, 'scripts/mariadb-replica.sh');
const SECRET = crypto.randomBytes(16).toString('hex');
const run = promisify(execFile);
const cephInstalled = ['radosgw', 'ceph-mon', 'ceph-osd', 'ceph-mgr'].every((b) => fs.existsSync(`/usr/bin/${b}`));
const skip = !cephInstalled && process.env.CI !== 'true' ? 'Ceph is not installed; .ci/run installs it (required under CI=true)' : false;

const t0 = Date.now();
const say = (m: string) => console.log(`[deployment +${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`);
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

describe('the whole deployment on one machine', { skip }, () => {
  const random = seededRandom();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-deploy-'));
  const stops: (() => Promise<unknown>)[] = [];
  let redis: TestRedis;
  let s3: S3Client;
  let primary: mysql.Connection;
  let hubA: { url: string; child: ChildProcess };
  let hubB: { url: string; child: ChildProcess };
  let gateway: { url: string; stop(): Promise<void> };
  let workerEnv: Record<string, string>;
  let issuer: LocalIssuer;
  const db = 'obia';
  const buckets = { primary: 'obia-blobs', backup: 'obia-blobs-backup' };

  before(async () => {
    if (!cephInstalled) assert.fail('CI=true and Ceph is not installed: .ci/run must install ceph-mon ceph-osd ceph-mgr radosgw ceph-common');
    say(`seed ${random.seed}, ${FILES} files, data under ${dir}`);
    // Each part is registered for stopping as soon as it runs, so a failure later stops it too.
    const rgwDir = path.join(dir, 'ceph');
    stops.push(() => run('bash', [RGW, 'stop', rgwDir]));
    const [rgwPort, primaryPort, replicaPort] = [await sparePort(), await sparePort(), await sparePort()];
    const rgw = run('bash', [RGW, 'start', rgwDir, String(rgwPort)]);
    const mariadb = (async () => {
      stops.push(() => run(MARIADB, ['stop', path.join(dir, 'primary')]));
      await run(MARIADB, ['primary', path.join(dir, 'primary'), String(primaryPort)]);
      stops.push(() => run(MARIADB, ['stop', path.join(dir, 'replica')]));
      await run(MARIADB, ['start', path.join(dir, 'replica'), String(replicaPort), `127.0.0.1:${primaryPort}`]);
    })();
    redis = await startRedis();
    stops.push(() => redis.stop());
    const [{ stdout }] = await Promise.all([rgw, mariadb]);
    say(`Ceph RGW on :${rgwPort}, MariaDB primary :${primaryPort} and replica :${replicaPort}, Redis :${redis.port}`);

    const aws = Object.fromEntries(stdout.split('\n').filter((l) => /^AWS_[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const credentials = { accessKeyId: aws.AWS_ACCESS_KEY_ID!, secretAccessKey: aws.AWS_SECRET_ACCESS_KEY! };
    const loc = (bucket: string): S3Location => ({ endpoint: aws.AWS_ENDPOINT_URL!, region: aws.AWS_REGION!, bucket, prefix: 'blobs/', forcePathStyle: true, credentials });
    const blobStore: BlobStoreSpec = { kind: 's3', primary: loc(buckets.primary), backup: loc(buckets.backup), partBytes: 8 * 1024 * 1024 };
    // Creating the buckets is the operator's step (docs/scale.md), before any process uses them.
    const setup = new S3BlobStore(blobStore);
    await setup.ensureBuckets();
    await setup.close();
    s3 = new S3Client({ endpoint: aws.AWS_ENDPOINT_URL, region: aws.AWS_REGION, forcePathStyle: true, credentials });

    primary = await mysql.createConnection(`mysql://root@127.0.0.1:${primaryPort}/`);
    await primary.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
    const databaseUrl = `mysql://root@127.0.0.1:${primaryPort}/${db}`;
    const shared = { keysDir: path.join(dir, 'keys'), stagingDir: path.join(dir, 'staging'), backupDir: path.join(dir, 'unused-local-backup') };
    const hubConfig = (name: string) => ({
      ...shared, dataDir: path.join(dir, name), databaseUrl, databaseReplicas: [`mysql://root@127.0.0.1:${replicaPort}/${db}`],
      redisUrl: redis.url, jobs: { mode: 'bullmq', lockMs: LOCK_MS }, blobStore, gatewaySecret: SECRET,
    });
    // Hub A first: it runs the migrations on the primary and writes the archive's keys that B and the workers share.
    hubA = await startReplica(hubConfig('hub-a'));
    stops.push(() => stopChild(hubA.child));
    hubB = await startReplica(hubConfig('hub-b'));
    stops.push(() => stopChild(hubB.child));
    gateway = await startGateway({
      port: 0, host: '127.0.0.1', supergraphSdl: fs.readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'),
      urls: { hub: [`${hubA.url}/graphql`, `${hubB.url}/graphql`] }, hubSecret: SECRET,
    });
    stops.push(() => gateway.stop());
    say(`hub A ${hubA.url}, hub B ${hubB.url}, gateway ${gateway.url}`);
    issuer = await LocalIssuer.open({ ...loadConfig(), ...shared });
    workerEnv = {
      DATABASE_URL: databaseUrl, OBIA_REDIS_URL: redis.url, OBIA_JOBS_LOCK_MS: String(LOCK_MS),
      OBIA_DATA_DIR: path.join(dir, 'workers'), OBIA_KEYS_DIR: shared.keysDir, OBIA_STAGING_DIR: shared.stagingDir, OBIA_BACKUP_DIR: shared.backupDir,
      OBIA_BLOB_STORE: 's3', OBIA_S3_BUCKET: buckets.primary, OBIA_S3_BACKUP_BUCKET: buckets.backup, ...aws,
      OBIA_INGEST_WORKERS: '1', OBIA_INGEST_BATCH: String(BATCH), OBIA_INGEST_CONCURRENCY: '2', OBIA_LOG_LEVEL: 'warn',
    };
  });

  after(async () => {
    // In reverse: workers and hubs before the services they use.
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`stopping: ${err.message}`));
    await primary?.end();
    s3?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    say('everything stopped');
  });

  it('ingests through hub A with a worker killed mid-run; hub B sees it all, the blobs are in both buckets', { timeout: 900_000 }, async () => {
    const token = await issuer.issue({ sub: 'deploy-submitter', roles: [Role.SUBMITTER] });
    const admin = await issuer.issue({ sub: 'deploy-admin', roles: [Role.ADMIN] });
    const gql = async (url: string, query: string, variables: Record<string, unknown>, bearer = token) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
      const body = await res.json() as any;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return body.data;
    };
    const created = await gql(`${hubA.url}/graphql`, `mutation($input: CreateSubmissionInput!) { createSubmission(input: $input) { id uploadUrl } }`, { input: { title: 'Deployment test', disease: 'ovarian cancer' } });
    const sub = created.createSubmission as { id: string; uploadUrl: string };

    // Four series of two patients: the two workers add to the same series at once.
    const series = Array.from({ length: 4 }, (_, i) => ({ patient: `DEPLOY-${i >> 1}`, study: uid(), series: uid() }));
    series[1]!.study = series[0]!.study;
    series[3]!.study = series[2]!.study;
    const entries: Record<string, Uint8Array> = {};
    for (let i = 0; i < FILES; i++) {
      const s = series[i % series.length]!;
      entries[`f${i}.dcm`] = makeCt({ patientId: s.patient, studyUid: s.study, seriesUid: s.series, sopUid: uid(), instanceNumber: i + 1, size: 32 });
    }
    const zip = zipSync(entries, { level: 1 });
    const uploaded = await fetch(`${hubA.url}${sub.uploadUrl}?name=all.zip`, { method: 'PUT', body: zip, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` } });
    assert.equal(uploaded.status, 201, await uploaded.text());
    say(`staged ${FILES} files (${(zip.length / 1024).toFixed(0)} KiB zip) through hub A`);

    // Per worker: the files of each batch it completed, and when it first took a job and last finished one.
    type Stats = { files: number; first: number; last: number; batches: number };
    const stats = new Map<string, Stats>();
    const held = new Map<string, number[]>();
    let killedAt = '';
    const track = (name: string) => (m: any) => {
      const s = stats.get(name) ?? { files: 0, first: 0, last: 0, batches: 0 };
      stats.set(name, s);
      if (m.active) { held.set(m.active.id, m.active.fileIds); s.first ||= Date.now(); }
      if (m.completed?.name === 'batch') { s.files += held.get(m.completed.id)?.length ?? 0; s.batches++; s.last = Date.now(); }
      if (m.completed && m.completed.id === killedAt) say(`${name} completed the killed worker's batch ${killedAt}`);
      if (m.active?.name === 'finish') say(`${name} began the finish job (the run's end-of-run products)`);
      if (m.completed?.name === 'finish') say(`${name} completed the finish job`);
    };

    // The kill point: after hub B's progress shows a seeded share of the files indexed, the victim's next batch start.
    const share = 0.2 + random.next() * 0.3;
    let armed = false;
    let victim: ChildProcess | undefined;
    const victimTrack = track('worker-1');
    const killed = new Promise<void>((resolve) => {
      void startWorker(workerEnv, (m) => {
        victimTrack(m);
        if (armed && !killedAt && m.active?.name === 'batch' && victim) {
          killedAt = m.active.id;
          victim.once('exit', () => resolve());
          victim.kill('SIGKILL');
          say(`SIGKILLed worker 1 as it began batch ${killedAt}`);
        }
      }).then((w) => { victim = w; stops.push(() => stopChild(w)); });
    });
    const survivor = await startWorker(workerEnv, track('worker-2'));
    stops.push(() => stopChild(survivor));
    say('two workers ready');

    const progress = subscriber(hubB.url, token, `subscription($id: ID!) { submissionProgress(submission: $id) { state total counts { state count } } }`, { id: sub.id });
    const indexed = (p: any) => p?.counts.find((c: any) => c.state === 'INDEXED')?.count ?? 0;
    let lastSaid = 0;
    // A watch that never settles: its check runs on every event hub B delivers (reports, arms the kill).
    progress.waitFor((events) => {
      const n = indexed(events.at(-1)?.data?.submissionProgress);
      if (n >= lastSaid + FILES / 5) { lastSaid = n; say(`hub B sees ${n}/${FILES} indexed`); }
      if (!armed && n >= share * FILES) { armed = true; say(`hub B saw ${n} indexed (≥ ${(share * 100).toFixed(0)} %): the kill is armed`); }
      return false;
    }, 'never', 900_000).catch(() => {});
    try {
      await progress.waitFor((e) => e.some((x) => x.data?.submissionProgress), 'the current state on hub B');
      const started = Date.now();
      const processing = await gql(`${hubA.url}/graphql`, `mutation($s: ID!) { processSubmission(submission: $s) { state } }`, { s: sub.id });
      assert.equal(processing.processSubmission.state, 'PROCESSING');
      await killed;
      await progress.waitFor((e) => e.some((x) => x.data?.submissionProgress?.state === 'PROCESSED'), 'PROCESSED on hub B', 840_000);
      const seconds = (Date.now() - started) / 1000;
      say(`PROCESSED after ${seconds.toFixed(1)} s: ${(FILES / seconds).toFixed(1)} files/s over both workers`);
      for (const [name, s] of stats) {
        const span = Math.max(1, s.last - s.first) / 1000;
        say(`${name}: ${s.batches} batches, ${s.files} files in ${span.toFixed(1)} s = ${(s.files / span).toFixed(1)} files/s`);
      }

      // Hub B saw the run move, not only its end.
      const seen = new Set(progress.events.map((x) => indexed(x.data?.submissionProgress)).filter((n) => n > 0 && n < FILES));
      assert.ok(seen.size >= 3, `hub B saw ${seen.size} intermediate counts`);

      // Every file once: in a final state, one image per file, the series counting each image once.
      const q = async (sql: string, params: unknown[] = []) => (await primary.query(sql, params))[0] as any[];
      const states = await q(`SELECT state, count(*) AS n FROM ${db}.submission_file WHERE submission_id = ? GROUP BY state`, [Number(sub.id)]);
      assert.deepEqual(Object.fromEntries(states.map((r) => [r.state, Number(r.n)])), { INDEXED: FILES }, 'every file indexed, none pending or lost');
      const images = await q(`SELECT i.uid, i.sha256, se.uid AS series, st.study_instance_uid AS study FROM ${db}.image i JOIN ${db}.series se ON se.id = i.series_id
        JOIN ${db}.study st ON st.id = se.study_id WHERE i.uid IN (SELECT image_uid FROM ${db}.submission_file WHERE submission_id = ?)`, [Number(sub.id)]);
      assert.equal(images.length, FILES, 'one image per file');
      assert.equal(new Set(images.map((i) => i.uid)).size, FILES);
      const counts = await q(`SELECT se.image_count AS c, count(*) AS n FROM ${db}.series se JOIN ${db}.image i ON i.series_id = se.id GROUP BY se.id, se.image_count`);
      assert.equal(counts.length, 4);
      for (const c of counts) assert.equal(Number(c.c), Number(c.n), 'no lost update of a series count between workers');

      // Both buckets hold exactly the stored blobs, each hashing to its name.
      const checkStart = Date.now();
      const expected = [...new Set(images.map((i) => i.sha256 as string))].sort();
      for (const bucket of [buckets.primary, buckets.backup]) {
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'blobs/', ContinuationToken: token }));
          keys.push(...(page.Contents ?? []).map((o) => o.Key!));
          token = page.NextContinuationToken;
        } while (token);
        assert.deepEqual(keys.map((k) => k.split('/').at(-1)).sort(), expected, `${bucket} holds exactly the stored blobs`);
        // Eight GETs in flight: the gateway's latency, not its throughput, bounds one at a time.
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (next < keys.length) {
            const key = keys[next++]!;
            const body = await readAll((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable);
            assert.equal(sha(body), key.split('/').at(-1), `${bucket}/${key} hashes to its name`);
          }
        }));
      }
      say(`both buckets hold the ${expected.length} blobs, re-hashed (${(2 * expected.length / ((Date.now() - checkStart) / 1000)).toFixed(0)} S3 GETs/s)`);

      // A download through hub B: the stored bytes, out of the buckets.
      const pick = images[random.int(0, images.length - 1)]!;
      const res = await fetch(`${hubB.url}/dicom-web/studies/${pick.study}/series/${pick.series}/instances/${pick.uid}`, {
        headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*', authorization: `Bearer ${admin}` },
      });
      assert.equal(res.status, 200);
      const boundary = /boundary="?([^";]+)"?/.exec(res.headers.get('content-type') ?? '')?.[1];
      assert.ok(boundary, res.headers.get('content-type') ?? '');
      const body = Buffer.from(await res.arrayBuffer());
      const start = body.indexOf('\r\n\r\n') + 4;
      const part = body.subarray(start, body.indexOf(`\r\n--${boundary}`, start));
      assert.equal(sha(part), pick.sha256, 'hub B streamed the stored bytes');
      say(`downloaded ${pick.uid} (${part.length} bytes) through hub B: sha256 matches`);

      // similarImages on hub B, and through the gateway (either hub): the nearest are new images.
      const uids = new Set(images.map((i) => i.uid as string));
      const similar = `query($u: String!) { similarImages(image: { uid: $u }, k: 10) { distance image { uid } } }`;
      for (const [where, url] of [['hub B', `${hubB.url}/graphql`], ['the gateway', gateway.url]] as const) {
        const found = (await gql(url, similar, { u: pick.uid })).similarImages.map((s: any) => s.image.uid as string);
        assert.equal(found.length, 10, `${where} found 10 neighbours`);
        assert.ok(found.every((u: string) => uids.has(u) && u !== pick.uid), `${where}: the neighbours are the new images`);
      }
      say('similarImages on hub B and through the gateway finds the new images');
    } finally {
      progress.client.dispose();
    }
  });
});
