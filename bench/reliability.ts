/**
 * `npm run bench:reliability` (issue 22): what abuse costs everyone else. Starts the hub in a
 * process of its own (bench/reliabilityHub.ts, 127.0.0.1 only, a fresh seeded SQLite archive
 * unless DATABASE_URL names one), then for each abuse runs it for a bounded time while one
 * probe client browses, and reports the probe's p50/p99/max (target: no browse request waits
 * more than 1 s because of another's abuse) with the hub's CPU per abusive request. Then the
 * hub's memory against before the abuse (target: within 100 MB) and the load it still holds:
 * 50 clients browsing for 30 s (target: >= 170 req/s, p99 <= 600 ms, no errors), with hub CPU
 * per request. Everything is bounded; it stops the hub and removes its data when done.
 *
 * Memory is read after the hub has idled BENCH_IDLE_MS (35 s: its ingest worker threads retire
 * after 30 s idle), before and after the abuse, and also right after it. The browse clients are
 * node:http over keep-alive connections; their own CPU per request is reported. The last line
 * printed is one JSON object with every figure (and the load average at start and end: on a busy
 * machine the figures say more about the neighbours than about the hub).
 *
 * BENCH_ABUSE_SECONDS (8), BENCH_LOAD_SECONDS (30), BENCH_CLIENTS (50), BENCH_SCALE (0.02),
 * BENCH_JUNK_ENTRIES (1500), BENCH_IDLE_MS (35000), BENCH_BOMBERS (200), BENCH_COLD_CONNECTIONS (unset;
 * 1: the load's connections are opened inside the timed window).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { zipSync } from 'fflate';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { pngBomb, rleDicomBomb, zeroZip } from '../test/reliability/bombs.js';
import { makeCt, uid } from '../test/ingest/helpers.js';

const ABUSE_SECONDS = Number(process.env.BENCH_ABUSE_SECONDS ?? 8);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const JUNK_ENTRIES = Number(process.env.BENCH_JUNK_ENTRIES ?? 1500);
const MB = 1024 * 1024;
/** How long the probe waits at most for the hub to finish an abuse's aftermath. */
const TAIL_LIMIT_MS = 180_000;
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ on Linux)
/**
 * Memory is compared between two idle moments: the ingest worker threads (piscina, idle timeout
 * 30 s) and what they decoded are the hub's until they retire, so 'before' and 'after' are both
 * read once the hub has been idle this long. The figure right after the abuse is reported too.
 */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 35_000);
const round = (n: number, d = 1) => Number.isFinite(n) ? Number(n.toFixed(d)) : null;

const BROWSE = `query($after: String) { seriesList(first: 50, after: $after, filter: { modality: ["CT", "MR"], ageMin: 30, ageMax: 80 }) {
  totalCount pageInfo { endCursor } edges { node { uid modality anatomicalSite imageCount } } } }`;

interface Hub { child: ChildProcess; url: string; pid: number; tokens: Record<'submitter' | 'researcher' | 'curator', string>; bombers: string[]; dataDir: string; backupDir: string;
  collection: { accession: string; series: string[]; images: { uid: string; sha256: string }[] }; lines: readline.Interface }

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

/** User + system CPU seconds the hub has used so far. */
function hubCpu(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function startHub(dataDir: string): Promise<Hub> {
  const entry = path.resolve(__dirname, 'reliabilityHub.js');
  const child = spawn(process.execPath, ['--expose-gc', entry], {
    env: {
      ...process.env, OBIA_DATA_DIR: dataDir, OBIA_LOG_LEVEL: 'error',
      // Small quotas, so the flood below reaches them in seconds.
      OBIA_SUBMISSION_QUOTA_BYTES: String(16 * MB), OBIA_USER_QUOTA_BYTES: String(48 * MB),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the hub exited (${code}) before it listened`)));
  });
  return { child, lines, ...JSON.parse(first) };
}

/** The hub's memory after a full collection (it answers SIGUSR2 with process.memoryUsage()). */
async function hubMemory(hub: Hub): Promise<{ rss: number; heapUsed: number }> {
  const answer = new Promise<string>((resolve) => hub.lines.once('line', resolve));
  hub.child.kill('SIGUSR2');
  return JSON.parse(await answer).memory;
}

async function gql(hub: Hub, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> {
  const res = await fetch(`${hub.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

// The browse clients share keep-alive connections through node:http, the cheapest client here
// (fetch spends about twice its CPU per request): on 2 cores the load generator's CPU is taken
// from the hub's, so it is kept small and reported.
const browseAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(CLIENTS, 1) });
const BROWSE_BODY = JSON.stringify({ query: BROWSE, variables: {} });

function browseOnce(hub: Hub): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${hub.url}/graphql`, {
      method: 'POST', agent: browseAgent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BROWSE_BODY) },
    }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        // A page of series answers {"data":{"seriesList":…}} and no "errors" member.
        if (res.statusCode !== 200 || !text.startsWith('{"data":{"seriesList":{') || text.includes('"errors":')) reject(new Error(`${res.statusCode} ${text.slice(0, 200)}`));
        else resolve();
      });
    });
    req.on('error', reject);
    req.end(BROWSE_BODY);
  });
}

/** One client browsing back to back until `until`; latencies in ms, and errors. */
async function browse(hub: Hub, until: () => boolean, into: number[], errors: string[]): Promise<void> {
  while (!until()) {
    const t0 = performance.now();
    try { await browseOnce(hub); into.push(performance.now() - t0); } catch (err) { errors.push((err as Error).message); }
  }
}

async function upload(hub: Hub, submissionId: number, bytes: Uint8Array, name: string, token = hub.tokens.submitter): Promise<number> {
  const res = await fetch(`${hub.url}/submissions/${submissionId}/files?name=${encodeURIComponent(name)}`, {
    method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

async function newSubmission(hub: Hub, token = hub.tokens.submitter): Promise<number> {
  const body = await gql(hub, 'mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }', { i: { title: `abuse ${uid()}`, disease: 'bench' } }, token);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Number(body.data.createSubmission.id);
}

/**
 * Processes a submission to the end as a client does: processSubmission starts the run and
 * answers at once; submissionProgress (graphql-ws, current state first) is followed to PROCESSED.
 */
async function processSubmission(hub: Hub, id: number, token = hub.tokens.submitter): Promise<any> {
  const body = await gql(hub, 'mutation($id: ID!) { processSubmission(submission: $id) { id state } }', { id: String(id) }, token);
  if (body.errors) return { error: body.errors[0].extensions?.code };
  const client = createClient({ url: `${hub.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  try {
    const counts = await new Promise<Record<string, number>>((resolve, reject) => {
      client.subscribe<any>({ query: 'subscription($id: ID!) { submissionProgress(submission: $id) { state counts { state count } } }', variables: { id: String(id) } }, {
        next: (e) => {
          if (e.errors) reject(new Error(wsError(e.errors)));
          else if (e.data?.submissionProgress.state === 'PROCESSED') resolve(Object.fromEntries(e.data.submissionProgress.counts.map((c: any) => [c.state, c.count])));
        },
        error: (err) => reject(new Error(wsError(err))),
        complete: () => reject(new Error('submissionProgress ended before the run did')),
      });
    });
    return { ingested: (counts.INDEXED ?? 0) + (counts.STORED ?? 0), quarantined: counts.QUARANTINED ?? 0, duplicates: counts.DUPLICATE ?? 0 };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    await client.dispose();
  }
}

/**
 * What graphql-ws hands an error sink, as text: a list of GraphQL errors (their codes and
 * messages), a close event (its code and reason) or an Error. (String() of the list read
 * "[object Object]".)
 */
function wsError(err: unknown): string {
  if (Array.isArray(err)) return err.map((e) => `${e?.extensions?.code ?? 'ERROR'}: ${e?.message ?? JSON.stringify(e)}`).join('; ');
  if (err instanceof Error) return err.message;
  const close = err as { code?: number; reason?: string; type?: string };
  if (close && typeof close === 'object' && 'code' in close) return `socket closed ${close.code}${close.reason ? ` ${close.reason}` : ''}`;
  return typeof err === 'string' ? err : JSON.stringify(err);
}


interface Abuse { name: string; once?: boolean; run: (hub: Hub) => Promise<string> }

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-reliability-'));
  const t0 = performance.now();
  const hub = await startHub(dataDir);
  console.log(`hub ${hub.url} (pid ${hub.pid}) seeded and listening in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${os.cpus().length} cores here`);
  const results: string[] = [];
  // Every figure printed above, for the last line (JSON).
  const figures: Record<string, any> = { cores: os.cpus().length, loadAverageAtStart: round(os.loadavg()[0]!, 2), abuses: [] };
  let failed = 0;
  const check = (ok: boolean, text: string) => { if (!ok) failed++; results.push(`${ok ? 'PASS' : 'FAIL'} ${text}`); };
  try {
    for (let i = 0; i < 30; i++) await browseOnce(hub); // warm caches and JIT
    // Legitimate use first, so what loads once (the ingest worker threads and their codecs, the
    // hashing model) is in the 'before' figure and the comparison is of what abuse leaves behind.
    const warm = await newSubmission(hub);
    const [ws, wr] = [uid(), uid()];
    for (let i = 0; i < 3; i++) await upload(hub, warm, makeCt({ patientId: 'WARM-1', studyUid: ws, seriesUid: wr, sopUid: uid(), instanceNumber: i + 1 }), `${i}.dcm`);
    await processSubmission(hub, warm);
    await gql(hub, 'query($i: ImageQueryInput!) { similarImages(image: $i, k: 5) { distance } }', { i: { base64: (await pngBomb(64)).toString('base64') } });
    const quiet: number[] = [];
    const quietErrors: string[] = [];
    const quietCpu0 = hubCpu(hub.pid);
    const quietEnd = performance.now() + 3000;
    await browse(hub, () => performance.now() > quietEnd, quiet, quietErrors);
    const browseCpu = (hubCpu(hub.pid) - quietCpu0) / Math.max(1, quiet.length);
    quiet.sort((a, b) => a - b);
    figures.quiet = { n: quiet.length, p50Ms: round(percentile(quiet, 50)), p99Ms: round(percentile(quiet, 99)), hubCpuMsPerRequest: round(browseCpu * 1000, 2), errors: quietErrors.length };
    console.log(`browse, quiet hub: p50 ${percentile(quiet, 50).toFixed(1)} ms, p99 ${percentile(quiet, 99).toFixed(1)} ms (n=${quiet.length}), hub CPU ${(browseCpu * 1000).toFixed(2)} ms per request`);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const memBefore = await hubMemory(hub);

    // Bad in both copies: the zip and range abuses hit it.
    const [bad] = hub.collection.images;
    for (const root of [path.join(hub.dataDir, 'blobs'), hub.backupDir]) {
      const file = path.join(root, bad!.sha256.slice(0, 2), bad!.sha256);
      const bytes = fs.readFileSync(file); bytes[bytes.length - 5] ^= 0xff; fs.writeFileSync(file, bytes);
    }
    const link = await gql(hub, 'mutation($t: DownloadTargetInput!) { createDownloadLink(target: $t, format: DICOM_ZIP) { url } }', { t: { collection: hub.collection.accession } }, hub.tokens.researcher);
    const zipUrl: string = link.data.createDownloadLink.url;
    const imageUrl = zipUrl.replace('/archive.zip', `/images/${bad!.uid}.dcm`);
    const png = await pngBomb(16_000);
    const dicomBomb = rleDicomBomb(16_000);
    const zipBomb = await zeroZip(512 * MB, 'bomb.dcm');
    const junk = zipSync(Object.fromEntries(Array.from({ length: JUNK_ENTRIES }, (_, i) => [`junk/${i}.dcm`, crypto.randomBytes(100)])), { level: 1 });
    const statuses = () => new Map<string, number>();
    const tally = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} x${v}`).join(', ');

    let bombs = 0;
    const abuses: Abuse[] = [
      { name: 'zip download including a file corrupt in both copies', run: async (h) => {
        const res = await fetch(zipUrl, { headers: { authorization: `Bearer ${h.tokens.researcher}` } });
        const body = Buffer.from(await res.arrayBuffer());
        return `${res.status} ${body.includes(Buffer.from('"error":"CORRUPT"')) ? 'manifest names it' : 'NO ERROR ENTRY'}`;
      } },
      { name: 'Range requests of a file corrupt in both copies', run: async (h) => {
        const res = await fetch(imageUrl, { headers: { authorization: `Bearer ${h.tokens.researcher}`, range: 'bytes=0-1023' } });
        await res.arrayBuffer();
        return String(res.status);
      } },
      { name: `similarImages with a ${Math.round(png.length / 1024)} KB PNG of 16,000 x 16,000`, run: async (h) => {
        const body = await gql(h, 'query($i: ImageQueryInput!) { similarImages(image: $i, k: 5) { distance } }', { i: { base64: png.toString('base64') } });
        return body.errors?.[0]?.extensions?.code ?? 'answered';
      } },
      { name: `ingest of a ${(dicomBomb.length / MB).toFixed(1)} MB RLE DICOM decoding to 16,000 x 16,000`, run: async (h) => {
        // A submitter of its own each round (see reliabilityHub.ts), so each bomb is decoded, not refused by a quota.
        const token = h.bombers[bombs++ % h.bombers.length]!;
        const id = await newSubmission(h, token);
        const status = await upload(h, id, dicomBomb, 'bomb.dcm', token);
        const r = await processSubmission(h, id, token);
        return `${status} ${JSON.stringify(r)}`;
      } },
      { name: `upload of a ${(zipBomb.length / 1024).toFixed(0)} KB zip expanding to 512 MB`, run: async (h) => String(await upload(h, await newSubmission(h), zipBomb, 'bomb.zip')) },
      { name: 'staging flood: 1 MB uploads past the per-submission and per-submitter quotas', run: async (h) => {
        const id = await newSubmission(h);
        let last = 0;
        for (let i = 0; i < 20 && last !== 413 && last !== 507; i++) last = await upload(h, id, crypto.randomBytes(MB), `junk-${i}.dcm`);
        return String(last);
      } },
      { name: `zip of ${JUNK_ENTRIES} tiny junk entries, processed`, once: true, run: async (h) => {
        const id = await newSubmission(h);
        const status = await upload(h, id, junk, 'junk.zip');
        return `${status} ${JSON.stringify(await processSubmission(h, id))}`;
      } },
    ];

    for (const abuse of abuses) {
      // The abuse's own cost, alone for a few seconds (the probe below would blur it).
      let soloRounds = 0;
      let soloCpu = NaN;
      if (!abuse.once) {
        const soloEnd = performance.now() + 3000;
        const c0 = hubCpu(hub.pid);
        do { await abuse.run(hub).catch(() => null); soloRounds++; } while (performance.now() < soloEnd);
        soloCpu = (hubCpu(hub.pid) - c0) / soloRounds;
      }
      const end = performance.now() + ABUSE_SECONDS * 1000;
      let abusing = true;
      const probe: number[] = [];
      const probeErrors: string[] = [];
      const outcomes = statuses();
      const cpu0 = hubCpu(hub.pid);
      const started = performance.now();
      let rounds = 0;
      const attacker = (async () => {
        try {
          do {
            const out = await abuse.run(hub).catch((err) => `threw ${(err as Error).message.slice(0, 80)}`);
            outcomes.set(out, (outcomes.get(out) ?? 0) + 1);
            rounds++;
          } while (!abuse.once && performance.now() < end);
        } finally { abusing = false; }
      })();
      // Let the abuse start before the probe measures. The probe goes on after the abuse has been
      // answered for as long as the hub keeps working on it (e.g. QC events recorded after a run):
      // until a 2 s window in which the hub spent little more CPU than the probe's own requests.
      await new Promise((r) => setImmediate(r));
      let tailFrom = 0;
      let window = { at: performance.now(), cpu: hubCpu(hub.pid), n: 0 };
      const settled = () => {
        if (abusing) return false;
        const now = performance.now();
        if (!tailFrom) { tailFrom = now; window = { at: now, cpu: hubCpu(hub.pid), n: probe.length }; return false; }
        if (now - tailFrom > TAIL_LIMIT_MS) return true;
        if (now - window.at < 2000) return false;
        const cpu = hubCpu(hub.pid) - window.cpu;
        const quietEnough = cpu <= (probe.length - window.n) * browseCpu * 1.5 + 0.2;
        window = { at: now, cpu: hubCpu(hub.pid), n: probe.length };
        return quietEnough;
      };
      await browse(hub, settled, probe, probeErrors);
      await attacker;
      const tail = (performance.now() - tailFrom) / 1000;
      const seconds = (performance.now() - started) / 1000;
      const cpu = hubCpu(hub.pid) - cpu0;
      if (hub.child.exitCode !== null) throw new Error(`the hub died during: ${abuse.name}`);
      probe.sort((a, b) => a - b);
      const max = probe.at(-1) ?? NaN;
      console.log(`${abuse.name}: ${rounds} in ${seconds.toFixed(1)} s (${tally(outcomes)}); hub CPU ${abuse.once ? `${(cpu * 1000).toFixed(0)} ms for it (probe included)` : `${(soloCpu * 1000).toFixed(1)} ms per abusive request alone (${soloRounds} in 3 s)`}, ${(cpu / seconds * 100).toFixed(0)}% of a core with the probe;`
        + ` the hub worked on it ${tail.toFixed(1)} s after it was answered;`
        + ` browse meanwhile p50 ${percentile(probe, 50).toFixed(1)} ms, p99 ${percentile(probe, 99).toFixed(1)} ms, max ${max.toFixed(1)} ms (n=${probe.length}, errors ${probeErrors.length}${probeErrors.length ? `: ${probeErrors[0]!.slice(0, 160)}` : ''})`);
      figures.abuses.push({
        name: abuse.name, rounds, outcomes: Object.fromEntries(outcomes), seconds: round(seconds), hubCpuMsPerAbuseAlone: abuse.once ? null : round(soloCpu * 1000),
        hubCpuMsTotal: abuse.once ? round(cpu * 1000, 0) : null, tailSeconds: round(tail), browse: { n: probe.length, p50Ms: round(percentile(probe, 50)), p99Ms: round(percentile(probe, 99)), maxMs: round(max), errors: probeErrors.length },
      });
      check(max <= 1000 + percentile(quiet, 99) && probeErrors.length === 0, `${abuse.name}: slowest browse ${max.toFixed(0)} ms (target: no wait over 1 s beyond the quiet p99)`);
    }

    const memRightAfter = await hubMemory(hub);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const memAfter = await hubMemory(hub);
    const grew = (memAfter.rss - memBefore.rss) / MB;
    figures.memoryMB = {
      before: { rss: round(memBefore.rss / MB, 0), heapUsed: round(memBefore.heapUsed / MB, 0) }, rightAfter: { rss: round(memRightAfter.rss / MB, 0), heapUsed: round(memRightAfter.heapUsed / MB, 0) },
      after: { rss: round(memAfter.rss / MB, 0), heapUsed: round(memAfter.heapUsed / MB, 0) }, rssGrowth: round(grew, 0), idleSecondsBeforeEach: IDLE_MS / 1000,
    };
    console.log(`hub memory (idle ${IDLE_MS / 1000} s before each reading): rss ${(memBefore.rss / MB).toFixed(0)} MB before the abuse, ${(memRightAfter.rss / MB).toFixed(0)} MB right after it, ${(memAfter.rss / MB).toFixed(0)} MB after (heap ${(memBefore.heapUsed / MB).toFixed(0)} -> ${(memRightAfter.heapUsed / MB).toFixed(0)} -> ${(memAfter.heapUsed / MB).toFixed(0)} MB)`);
    check(grew <= 100, `memory after the abuse within 100 MB of before (${grew >= 0 ? '+' : ''}${grew.toFixed(0)} MB)`);

    // The clients' connections are opened before the clock starts: a first request on a new
    // connection that arrives while the hub is saturated waited until the load ended (17-22 s,
    // measured with 2 cores under load average 22-33; not explained yet, and not the load
    // generator's doing: one agent per client did the same), which is a fault of its own and
    // not what this figure measures. How long opening them took is reported.
    // BENCH_COLD_CONNECTIONS=1 skips this, to reproduce that fault (see the slowest requests' start times).
    const opened = performance.now();
    if (process.env.BENCH_COLD_CONNECTIONS !== '1') await Promise.all(Array.from({ length: CLIENTS }, () => browseOnce(hub).catch(() => null)));
    figures.loadConnectionsOpenedMs = process.env.BENCH_COLD_CONNECTIONS === '1' ? null : round(performance.now() - opened, 0);
    const latencies: number[] = [];
    const errors: string[] = [];
    const cpu0 = hubCpu(hub.pid);
    const own0 = process.cpuUsage();
    const started = performance.now();
    const loadEnd = started + LOAD_SECONDS * 1000;
    await Promise.all(Array.from({ length: CLIENTS }, () => browse(hub, () => performance.now() > loadEnd, latencies, errors)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = hubCpu(hub.pid) - cpu0;
    const own = process.cpuUsage(own0);
    latencies.sort((a, b) => a - b);
    const rate = latencies.length / seconds;
    console.log(`load: ${CLIENTS} clients browsing ${seconds.toFixed(1)} s: ${latencies.length} requests, ${rate.toFixed(1)} req/s, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, errors ${errors.length}${errors.length ? ` (${errors[0]!.slice(0, 160)})` : ''};`
      + ` hub CPU ${(cpu * 1000 / Math.max(1, latencies.length)).toFixed(2)} ms per request (${(cpu / seconds).toFixed(2)} cores), load generator ${((own.user + own.system) / 1000 / Math.max(1, latencies.length)).toFixed(2)} ms per request`);
    const perRequest = (cpu * 1000 + (own.user + own.system) / 1000) / Math.max(1, latencies.length);
    figures.load = {
      clients: CLIENTS, seconds: round(seconds), requests: latencies.length, reqPerSecond: round(rate), p50Ms: round(percentile(latencies, 50), 0), p99Ms: round(percentile(latencies, 99), 0),
      errors: errors.length, hubCpuMsPerRequest: round(cpu * 1000 / Math.max(1, latencies.length), 2), hubCores: round(cpu / seconds, 2),
      clientCpuMsPerRequest: round((own.user + own.system) / 1000 / Math.max(1, latencies.length), 2), capacityReqPerSecond: round(os.cpus().length * 1000 / perRequest, 0),
    };
    console.log(`capacity: ${os.cpus().length} idle cores / ${perRequest.toFixed(2)} ms of CPU per request (hub + load generator) = ${(os.cpus().length * 1000 / perRequest).toFixed(0)} req/s; load average here ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
    check(rate >= 170 && percentile(latencies, 99) <= 600 && errors.length === 0, `load: ${rate.toFixed(0)} req/s (>= 170), p99 ${percentile(latencies, 99).toFixed(0)} ms (<= 600), ${errors.length} errors (0)`);
  } finally {
    hub.child.kill('SIGTERM');
    await new Promise((r) => { if (hub.child.exitCode !== null) r(null); else hub.child.once('exit', r); });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(results.join('\n'));
  console.log(failed ? `${failed} target(s) missed` : 'every target met');
  figures.loadAverageAtEnd = round(os.loadavg()[0]!, 2);
  figures.targets = results;
  figures.targetsMissed = failed;
  console.log(JSON.stringify(figures));
}

main().catch((err) => { console.error(err); process.exit(1); });
