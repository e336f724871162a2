/**
 * `npm run bench:access`: (1) memory and throughput of a 2 GB collection download, streamed as a
 * zip by the server and read by curl into /dev/null; (2) the latency per request that token
 * verification and the access policy add. Runs on its own temporary data directory and SQLite
 * (or DATABASE_URL). Sizes: BENCH_DOWNLOAD_MB (default 2048), BENCH_FILE_MB (default 8).
 */
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AccessControl } from '../src/access/AccessControl.js';
import { Action, decide } from '../src/access/policy.js';
import { bootstrap } from '../src/app.js';
import { Role } from '../src/auth/Principal.js';
import { TokenVerifier } from '../src/auth/verifier.js';
import { Accessibility, ReleaseState } from '../src/domain.js';
import { Collection } from '../src/entities/index.js';
import { LocalBlobStore } from '../src/storage/BlobStore.js';
import { makeCollection } from '../test/support/kit.js';

const TOTAL_MB = Number(process.env.BENCH_DOWNLOAD_MB ?? 2048);
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 8);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 500);
const run = promisify(execFile);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeIt(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number; mean: number }> {
  for (let i = 0; i < Math.min(50, n); i++) await fn(i); // warm JIT, pools and caches
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), mean: times.reduce((s, t) => s + t, 0) / n };
}

const ms = (r: { p50: number; p95: number; mean: number }) => `mean ${r.mean.toFixed(3)} ms, p50 ${r.p50.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms`;

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-access-'));
  const app = await bootstrap({
    config: { dataDir, keysDir: path.join(dataDir, 'keys'), stagingDir: path.join(dataDir, 'staging'), backupDir: path.join(dataDir, 'backup') },
    listen: false, seedIfEmpty: false, log: () => {},
  });
  try {
    const em = app.orm.em.fork() as EntityManager;
    const files = Math.max(1, Math.round(TOTAL_MB / FILE_MB));
    const perSeries = 32;
    const c = await makeCollection(em, { accessibility: Accessibility.CONTROLLED, releaseState: ReleaseState.RELEASED, submitter: 'bench-owner', title: 'bench download' },
      { individuals: 1, studies: 1, series: Math.ceil(files / perSeries), images: perSeries });

    // Blobs: written straight into the primary root's layout (no fsync, no backup copy): the
    // bench measures serving, not storing. Each file differs (a counter in a random base).
    const store = LocalBlobStore.fromConfig(app.config);
    const base = crypto.randomBytes(FILE_MB << 20);
    const knex = em.getKnex();
    const images: any[] = await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.collection_id', c.id).select('im.id').orderBy('im.id').limit(files);
    await knex('image').whereIn('series_id', knex('series').select('id').where('collection_id', c.id)).whereNotIn('id', images.map((r) => r.id)).del();
    const tGen = performance.now();
    for (const [i, im] of images.entries()) {
      base.writeUInt32LE(i, 0);
      const sha = crypto.createHash('sha256').update(base).digest('hex');
      const file = store.pathIn(store.primaryRoot, sha);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, base);
      await knex('image').where('id', im.id).update({ sha256: sha, size: base.length });
    }
    const totalBytes = images.length * base.length;
    console.log(`generated ${images.length} files of ${FILE_MB} MiB (${(totalBytes / 2 ** 30).toFixed(2)} GiB) in ${((performance.now() - tGen) / 1000).toFixed(1)} s`);

    const owner = await app.issuer.issue({ sub: 'bench-owner', roles: [Role.SUBMITTER] });
    const linkRes: any = await (await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` },
      body: JSON.stringify({ query: `mutation($a: String!) { createDownloadLink(target: { collection: $a }) { url } }`, variables: { a: c.accession } }),
    })).json();
    const url = linkRes.data.createDownloadLink.url as string;

    // (1) The download: curl in another process reads the zip into /dev/null; this process serves
    // it, and its RSS is sampled every 20 ms.
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const t0 = performance.now();
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '-H', `authorization: Bearer ${owner}`, url], { maxBuffer: 1 << 20 });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const [status, size] = stdout.trim().split(' ').map(Number);
    if (status !== 200) throw new Error(`download answered ${status}`);
    console.log(`download: ${(size! / 2 ** 30).toFixed(2)} GiB zip (${images.length} entries + manifest) in ${seconds.toFixed(1)} s = ${(size! / 2 ** 20 / seconds).toFixed(0)} MiB/s`);
    console.log(`server RSS: baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak while streaming ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - baseline) / 2 ** 20).toFixed(0)} MiB for ${(totalBytes / 2 ** 30).toFixed(2)} GiB)`);
    if (size! < totalBytes) throw new Error(`zip smaller than its files: ${size} < ${totalBytes}`);

    // (2) Latency added per request.
    const verifier = new TokenVerifier(app.config, app.issuer.jwks);
    const researcher = await app.issuer.issue({ sub: 'bench-researcher', roles: [Role.RESEARCHER] });
    console.log(`token verification (ES256, local JWKS): ${ms(await timeIt(ITERATIONS * 4, () => verifier.principalFrom(`Bearer ${researcher}`)))}`);
    const principal = (await verifier.principalFrom(`Bearer ${researcher}`))!;
    const collection = await em.findOneOrFail(Collection, { id: c.id });
    const facts = { collection, delegate: false, approved: false, pending: false };
    console.log(`policy decision, facts in hand (decide): ${ms(await timeIt(ITERATIONS * 20, async () => decide(principal, Action.DOWNLOAD, facts)))}`);
    console.log(`policy check with its facts query (AccessControl.can, fresh per request): ${ms(await timeIt(ITERATIONS, () => new AccessControl(app.orm.em.fork() as EntityManager, principal).can(Action.DOWNLOAD, collection)))}`);

    const post = (query: string, token: string | null) => fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables: { a: c.accession } }),
    }).then(async (r) => { const b: any = await r.json(); if (b.errors) throw new Error(JSON.stringify(b.errors)); return b; });
    const plain = `query($a: String!) { collection(accession: $a) { accession title } }`;
    const withPolicy = `query($a: String!) { collection(accession: $a) { accession title viewerCanDownload viewerCanRequestAccess viewerCanReviewRequests } }`;
    // Interleaved, so that load from anything else on the machine falls on all three alike.
    const variants: [string, () => Promise<unknown>][] = [
      ['anonymous', () => post(plain, null)],
      ['bearer token (verify + user recorded, cached)', () => post(plain, researcher)],
      ['bearer token + three viewerCan* fields (policy facts: one batched query pair)', () => post(withPolicy, researcher)],
    ];
    const times = variants.map(() => [] as number[]);
    for (let i = 0; i < ITERATIONS + 50; i++) {
      for (const [v, [, fn]] of variants.entries()) {
        const t0 = performance.now();
        await fn();
        if (i >= 50) times[v]!.push(performance.now() - t0);
      }
    }
    const stats = times.map((t) => { t.sort((a, b) => a - b); return { p50: percentile(t, 50), p95: percentile(t, 95), mean: t.reduce((s, x) => s + x, 0) / t.length }; });
    console.log(`GraphQL collection query over HTTP (n=${ITERATIONS} each, interleaved):`);
    for (const [v, [name]] of variants.entries()) {
      const added = v === 0 ? '' : `  → p50 +${(stats[v]!.p50 - stats[v - 1]!.p50).toFixed(3)} ms over the line above`;
      console.log(`  ${name}: ${ms(stats[v]!)}${added}`);
    }
  } finally {
    await app.close();
    app.server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
