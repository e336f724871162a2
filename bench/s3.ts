/**
 * `npm run bench:s3` (issue 18): PUT and verified GET rates of the S3 blob store for 512 KB
 * objects (the archive's typical de-identified CT slice). Uses the gateway in AWS_ENDPOINT_URL
 * (with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) when set, else starts a one-host Ceph RGW with
 * scripts/ceph-rgw.sh in a temporary directory and stops it after. Every PUT writes both copies
 * (primary and backup bucket) with Content-MD5; every GET is the hub's read: the object hashed
 * whole, then streamed again from the hashed version (If-Match), so it moves each object twice.
 * Prints objects/s, MB/s (of blob bytes) and this process's CPU per object.
 *
 * BENCH_S3_OBJECTS (400), BENCH_S3_CONCURRENCY (8), BENCH_S3_BYTES (524288).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3BlobStore } from '../src/storage/S3BlobStore.js';
import { readAll, type S3Location } from '../src/storage/store.js';
import { mulberry32 } from '../test/support/random.js';

const OBJECTS = Number(process.env.BENCH_S3_OBJECTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_S3_CONCURRENCY ?? 8);
const BYTES = Number(process.env.BENCH_S3_BYTES ?? 512 * 1024);
const RGW = path.resolve(__dirname, '../../scripts/ceph-rgw.sh');

async function inParallel(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < n) await work(next++); }));
}

async function measure(label: string, work: () => Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await work();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`${label}: ${OBJECTS} objects of ${BYTES} B in ${s.toFixed(2)} s = ${(OBJECTS / s).toFixed(1)} objects/s, ${((OBJECTS * BYTES) / s / 1e6).toFixed(1)} MB/s; client CPU ${(cpuMs / OBJECTS).toFixed(2)} ms/object (${(cpuMs / 1000 / s).toFixed(2)} cores)`);
}

async function main() {
  let dir: string | null = null;
  let env: Record<string, string | undefined> = process.env;
  if (!process.env.AWS_ENDPOINT_URL) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-rgw-'));
    const t0 = Date.now();
    const out = execFileSync('bash', [RGW, 'start', dir, String(17000 + Math.floor(Math.random() * 2000))], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    env = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    console.log(`Ceph RGW started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const tag = crypto.randomBytes(4).toString('hex');
  const loc = (bucket: string): S3Location => ({
    endpoint: env.AWS_ENDPOINT_URL!, region: env.AWS_REGION ?? 'us-east-1', bucket, prefix: 'bench/', forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const store = new S3BlobStore({ kind: 's3', primary: loc(`bench-a-${tag}`), backup: loc(`bench-b-${tag}`), partBytes: 8 << 20 });
  try {
    await store.ensureBuckets();
    const rnd = mulberry32(18);
    const blobs = Array.from({ length: OBJECTS }, () => { const b = Buffer.allocUnsafe(BYTES); for (let i = 0; i < BYTES; i += 4) b.writeUInt32LE(Math.floor(rnd() * 2 ** 32), i); return b; });
    const shas: string[] = [];
    console.log(`concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs (the gateway's daemons share them)`);
    await measure('PUT (both copies, Content-MD5)', () => inParallel(OBJECTS, async (i) => { shas[i] = await store.put(blobs[i]!); }));
    store.forget();
    await measure('GET (verified: hashed whole, then streamed)', () => inParallel(OBJECTS, async (i) => {
      const got = await readAll((await store.open(shas[i]!))!.stream());
      if (got.length !== BYTES) throw new Error('short read');
    }));
    await measure('GET again (verification cached: one transfer)', () => inParallel(OBJECTS, async (i) => { await readAll((await store.open(shas[i]!))!.stream()); }));
    for (const sha of shas) await store.delete(sha);
  } finally {
    await store.close();
    if (dir) { execFileSync('bash', [RGW, 'stop', dir], { stdio: 'ignore' }); fs.rmSync(dir, { recursive: true, force: true }); }
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
