/**
 * `npm run bench:ingest`: instances per second through the whole ingest pipeline (QC screening,
 * parse, map the patient, de-identify, store twice with fsync and verification, Study/
 * Series/Image rows, thumbnail, tag census, hash code) for generated 512×512 16-bit CT, on a
 * scratch archive under $TMPDIR (embedded SQLite unless DATABASE_URL names MariaDB), and one
 * 150-instance study end to end; with the CPU time the pipeline spent per instance, all
 * threads together, which says what the machine allows: N cores ÷ CPU per instance. On Linux
 * the CPU is also split by thread (the main thread, then each other thread that worked: the
 * ingest workers, V8's compiler and collector threads), user and kernel apart.
 *   BENCH_INSTANCES=1000 BENCH_WARMUP=600 BENCH_THUMBNAILS=0 BENCH_FLOW=sequential npm run bench:ingest
 * (BENCH_ORTHANC=0 leaves Orthanc out, for a quick look at OBIA Hub's own figures.)
 *
 * Flow: by default the bench calls processSubmission once the first file is recorded and goes on
 * uploading (the run takes files in rounds as they arrive: IngestPipeline.run), as a client that
 * wants its files archived soonest does; BENCH_FLOW=sequential uploads everything first, which
 * splits the CPU into receiving and the pipeline.
 *
 * The figure is for sustained ingest (the target is 1.94 M images), so the measured run is long
 * and follows a warm-up of the same mix of patients and studies: V8 keeps optimising functions
 * that run once per file or per batch for the first thousand files or so (through a 300-file
 * run after a 300-file warm-up it still spent about 1 ms per instance compiling).
 *
 * On an ext4 filesystem without a journal (as on these machines), creating a file costs about
 * ten times more while many files were deleted in the last minutes: the allocator reads every
 * recently freed inode it passes over (fs/ext4/ialloc.c, recently_deleted(): 15 µs of kernel
 * CPU per create measured here with no deletes about, 75–240 µs two seconds after a few
 * thousand). Ingest itself deletes nothing (staged files stay until a curator discards them);
 * this bench deletes its scratch archive when done, after Orthanc's run, so runs back to back
 * measure less than the pipeline does; leave five minutes between them (perf shows the walk as
 * find_inode_bit).
 *
 * Side by side: the same corpus (the throughput run's files) then goes through Debian's
 * `orthanc` (apt-get install -y orthanc), HTTP POST /instances from 4 clients, in a private
 * network namespace (bench/orthancSide.ts under `unshare -n`; needs root). The rates compared
 * are end to end (received to archived): Orthanc stores one copy and de-identifies nothing;
 * OBIA Hub screens, de-identifies, stores two verified copies and makes the thumbnail, census
 * and hash code. The last line is JSON: instancesPerSecond (end to end), pipelineInstancesPerSecond,
 * orthancInstancesPerSecond, ratioToOrthanc, cpuMsPerInstance (end to end: receiving and the
 * pipeline, all threads, as Orthanc's is), pipelineCpuMsPerInstance, orthancCpuMsPerInstance.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Role, type Principal } from '../src/auth/Principal.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/orm.js';
import { createIngest } from '../src/ingest/index.js';
import { DEFAULT_MODEL_PATH, HashModel } from '../src/retrieval/HashModel.js';
import { makeCt, uid } from '../test/ingest/helpers.js';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const THUMBNAILS = process.env.BENCH_THUMBNAILS !== '0';
/** `sequential`: every upload first, then the run (receiving's and the pipeline's CPU apart). Default: overlapped. */
const OVERLAP = process.env.BENCH_FLOW !== 'sequential';

/** CPU time so far of each thread of this process (Linux), in clock ticks: [user, kernel]. */
function threadTimes(): Map<string, [number, number]> {
  const times = new Map<string, [number, number]>();
  let tids: string[] = [];
  try { tids = fs.readdirSync('/proc/self/task'); } catch { return times; }
  for (const tid of tids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      times.set(tid, [Number(f[11]), Number(f[12])]);
    } catch { /* the thread ended */ }
  }
  return times;
}

function threadSplit(before: Map<string, [number, number]>, after: Map<string, [number, number]>, instances: number): string {
  const tickMs = 10; // USER_HZ is 100 on Linux
  const rows = [...after].map(([tid, [u, s]]) => {
    const [u0, s0] = before.get(tid) ?? [0, 0];
    return { tid, user: ((u - u0) * tickMs) / instances, sys: ((s - s0) * tickMs) / instances };
  }).filter((r) => r.user + r.sys >= 0.1);
  const main = rows.find((r) => r.tid === String(process.pid));
  const others = rows.filter((r) => r !== main).sort((a, b) => b.user + b.sys - (a.user + a.sys));
  const fmt = (r: { user: number; sys: number }) => `${r.user.toFixed(1)}/${r.sys.toFixed(1)}`;
  return `CPU by thread, ms per instance user/kernel: main ${main ? fmt(main) : '0'}; others ${others.map(fmt).join(', ') || 'none'}`;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-ingest-'));
  const config = loadConfig({ ...process.env, OBIA_DATA_DIR: dataDir, OBIA_STAGING_DIR: '', OBIA_BACKUP_DIR: '', OBIA_KEYS_DIR: '' }, {
    stagingDir: path.join(dataDir, 'staging'), backupDir: path.join(dataDir, 'backup'), keysDir: path.join(dataDir, 'keys'),
  });
  const orm = await openDatabase(config);
  const ingest = createIngest(orm, config, () => {}, { thumbnails: THUMBNAILS });
  const curator: Principal = { id: 'bench', name: null, email: null, institution: null, roles: [Role.CURATOR] };

  // Files are generated up front: the bench measures the archive, not dcmjs writing test input.
  const make = (n: number, patients: number, studiesPerPatient: number) => {
    const studies = Array.from({ length: patients * studiesPerPatient }, (_, i) => ({ patient: `BENCH-${i % patients}`, study: uid(), series: uid() }));
    return Array.from({ length: n }, (_, i) => {
      const s = studies[i % studies.length]!;
      return makeCt({ patientId: s.patient, studyUid: s.study, seriesUid: s.series, sopUid: uid(), instanceNumber: i + 1, size: 512 });
    });
  };

  const run = async (label: string, files: Buffer[]) => OVERLAP ? overlapped(label, files) : sequential(label, files);

  /**
   * Uploads and processing overlapped: processSubmission once the first file is recorded, while
   * the uploads go on (the run takes files in rounds as they arrive); end to end is from the
   * first byte sent to the last file indexed. Receiving and processing share the CPU, so the
   * CPU is one figure (all threads, end to end).
   */
  const overlapped = async (label: string, files: Buffer[]) => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const threads0 = threadTimes();
    const submission = await ingest.submissions.create(curator, { title: label, disease: 'benchmark' });
    let next = 0;
    let processing: Promise<unknown> | null = null;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const i = next++;
        await ingest.submissions.receive(curator, submission.id, Readable.from([files[i]!]), `${i}.dcm`);
        processing ??= ingest.pipeline.process(submission.id);
      }
    }));
    const t1 = performance.now();
    await processing;
    // Joins the run if it is still going; otherwise a run for files that arrived after it ended.
    const summary = await ingest.pipeline.process(submission.id);
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const threads = threadSplit(threads0, threadTimes(), files.length);
    if (summary.ingested !== files.length) throw new Error(`${label}: ingested ${summary.ingested} of ${files.length}: ${JSON.stringify(summary)}`);
    const mb = files.reduce((s, f) => s + f.length, 0) / 1e6;
    console.log(`${label}: ${files.length} instances (${mb.toFixed(0)} MB), uploads and processing overlapped — last upload at ${(t1 - t0).toFixed(0)} ms, ` +
      `last file indexed at ${(t2 - t0).toFixed(0)} ms = ${(files.length / ((t2 - t0) / 1000)).toFixed(1)} instances/s end to end; ` +
      `CPU ${((cpu.user + cpu.system) / 1000 / files.length).toFixed(1)} ms per instance (${(cpu.system / 1000 / files.length).toFixed(1)} in the kernel), all threads, receiving and pipeline`);
    if (threads0.size) console.log(`  ${threads}`);
    return { instances: files.length, receiveMs: t1 - t0, pipelineMs: null, totalMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000, receiveCpuMs: null };
  };

  const sequential = async (label: string, files: Buffer[]) => {
    const t0 = performance.now();
    const receiveCpu0 = process.cpuUsage();
    const submission = await ingest.submissions.create(curator, { title: label, disease: 'benchmark' });
    // Four uploads at a time, as the ingest CLI stages a directory.
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const i = next++;
        await ingest.submissions.receive(curator, submission.id, Readable.from([files[i]!]), `${i}.dcm`);
      }
    }));
    const t1 = performance.now();
    // Receiving costs CPU too (hashing, the staged copy, its row; per-file screening starts on the
    // worker pool as files arrive): counted apart, and in the end-to-end CPU per instance.
    const receiveCpu = process.cpuUsage(receiveCpu0);
    const threads0 = threadTimes();
    const cpu0 = process.cpuUsage();
    const summary = await ingest.pipeline.process(submission.id);
    const cpu = process.cpuUsage(cpu0);
    const threads = threadSplit(threads0, threadTimes(), files.length);
    const t2 = performance.now();
    if (summary.ingested !== files.length) throw new Error(`${label}: ingested ${summary.ingested} of ${files.length}: ${JSON.stringify(summary)}`);
    const mb = files.reduce((s, f) => s + f.length, 0) / 1e6;
    console.log(`${label}: ${files.length} instances (${mb.toFixed(0)} MB) — receive ${(t1 - t0).toFixed(0)} ms, pipeline ${(t2 - t1).toFixed(0)} ms ` +
      `= ${(files.length / ((t2 - t1) / 1000)).toFixed(1)} instances/s through the pipeline, ${(files.length / ((t2 - t0) / 1000)).toFixed(1)} instances/s end to end; ` +
      `pipeline CPU ${((cpu.user + cpu.system) / 1000 / files.length).toFixed(1)} ms per instance (${(cpu.system / 1000 / files.length).toFixed(1)} in the kernel), all threads; ` +
      `receive CPU ${((receiveCpu.user + receiveCpu.system) / 1000 / files.length).toFixed(1)} ms per instance`);
    if (threads0.size) console.log(`  ${threads}`);
    return {
      instances: files.length, receiveMs: t1 - t0, pipelineMs: t2 - t1 as number | null, totalMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000,
      receiveCpuMs: (receiveCpu.user + receiveCpu.system) / 1000 as number | null,
    };
  };

  console.log(`ingest bench: 512×512 16-bit CT, ${config.databaseUrl ? 'MariaDB' : 'SQLite'}, thumbnails ${THUMBNAILS ? 'on' : 'off'}, ${os.cpus().length} cores, ` +
    `${OVERLAP ? 'uploads and processing overlapped' : 'upload, then process'}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await run('warm-up', make(Number(process.env.BENCH_WARMUP ?? 600), 5, 2));
  const corpus = make(INSTANCES, 5, 2);
  const profiling = process.env.BENCH_PROFILE ? await startProfile() : null;
  // A line to start an outside profiler by (perf record -p): the measured run begins now.
  console.log(`throughput: ${corpus.length} instances, starting`);
  const many = await run('throughput', corpus);
  if (profiling) console.log(`main thread's profile of the throughput run: ${await profiling()}`);
  const study = await run('one 150-instance study', make(150, 1, 1));
  await ingest.pipeline.close();
  await orm.close(true);

  // The scratch archive is deleted only after Orthanc's run: the thousands of inodes a deletion
  // frees make every file created in the next minutes dearer on these disks (see the top), and
  // Orthanc creates one per instance.
  const orthanc = runOrthanc(corpus);
  fs.rmSync(dataDir, { recursive: true, force: true });
  const perSecond = many.instances / (many.totalMs / 1000);
  // End to end, as Orthanc's figure is: receiving and the pipeline (this process, all threads).
  const cpuMsPerInstance = (many.cpuMs + (many.receiveCpuMs ?? 0)) / many.instances;
  if (orthanc.figures) {
    const o = orthanc.figures;
    console.log(`orthanc (Debian, POST /instances from 4 clients, one copy, no de-identification): ${o.orthancInstancesPerSecond} instances/s, ` +
      `${o.orthancCpuMsPerInstance} ms CPU per instance`);
    console.log(`OBIA Hub end to end ${perSecond.toFixed(1)} instances/s = ${(perSecond / o.orthancInstancesPerSecond).toFixed(2)}× Orthanc's rate; ` +
      `CPU per instance ${cpuMsPerInstance.toFixed(1)} ms = ${(cpuMsPerInstance / o.orthancCpuMsPerInstance).toFixed(2)}× Orthanc's`);
  } else {
    console.log(`orthanc: not measured (${orthanc.why})`);
  }
  // What doubling Orthanc's rate would allow this machine to spend on an instance (every core busy
  // the whole time), beside what the hash model alone costs: the bar is out of reach whenever the
  // model and Orthanc's own storing of one copy (which de-identifies, screens, renders and hashes
  // nothing) together cost more than the budget, however fast the rest is made.
  const modelCpuMs = await modelCpuMsPerImage();
  const budgetFor2x = orthanc.figures ? (os.cpus().length * 1000) / (2 * orthanc.figures.orthancInstancesPerSecond) : null;
  console.log(`the hash model alone (batches of ${MODEL_BATCH}, one thread): ${modelCpuMs.toFixed(2)} ms CPU per image` + (budgetFor2x === null ? ''
    : `; 2× Orthanc's rate leaves ${budgetFor2x.toFixed(2)} ms CPU per instance on ${os.cpus().length} cores, and Orthanc spends ` +
      `${orthanc.figures!.orthancCpuMsPerInstance} ms storing one copy: model + Orthanc's store = ${(modelCpuMs + orthanc.figures!.orthancCpuMsPerInstance).toFixed(2)} ms`));
  console.log(JSON.stringify({
    flow: OVERLAP ? 'overlapped' : 'sequential',
    instancesPerSecond: +perSecond.toFixed(1),
    pipelineInstancesPerSecond: many.pipelineMs === null ? null : +(many.instances / (many.pipelineMs / 1000)).toFixed(1),
    orthancInstancesPerSecond: orthanc.figures?.orthancInstancesPerSecond ?? null,
    ratioToOrthanc: orthanc.figures ? +(perSecond / orthanc.figures.orthancInstancesPerSecond).toFixed(2) : null,
    cpuMsPerInstance: +cpuMsPerInstance.toFixed(1),
    pipelineCpuMsPerInstance: many.receiveCpuMs === null ? null : +(many.cpuMs / many.instances).toFixed(1),
    orthancCpuMsPerInstance: orthanc.figures?.orthancCpuMsPerInstance ?? null,
    study150Ms: Math.round(study.totalMs),
    modelCpuMsPerImage: +modelCpuMs.toFixed(2),
    cpuMsBudgetFor2x: budgetFor2x === null ? null : +budgetFor2x.toFixed(2),
    loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
  }));
}

/** The model's batch in ingest: one batch of files (IngestPipeline's BATCH_FILES). */
const MODEL_BATCH = 32;

/**
 * CPU per image of the pinned hash model alone, in this process on one onnxruntime thread (as the
 * model thread runs it), for preprocessed inputs: 20 batches after 3 to warm up.
 */
async function modelCpuMsPerImage(): Promise<number> {
  const model = await HashModel.load(DEFAULT_MODEL_PATH);
  try {
    let seed = 1;
    const input = () => Float32Array.from({ length: model.side * model.side }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
    const batch = Array.from({ length: MODEL_BATCH }, input);
    for (let i = 0; i < 3; i++) await model.embed(batch);
    const c0 = process.cpuUsage();
    const rounds = 20;
    for (let i = 0; i < rounds; i++) await model.embed(batch);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / (rounds * MODEL_BATCH);
  } finally {
    await model.close();
  }
}

/**
 * BENCH_PROFILE=<file>: the main thread's CPU profile of the throughput run alone (node's
 * --cpu-prof would also take in making the corpus and the warm-up); open it in Chrome's DevTools.
 */
async function startProfile(): Promise<() => Promise<string>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    const file = process.env.BENCH_PROFILE!;
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    return file;
  };
}

/** The corpus through Orthanc in a network namespace of its own (bench/orthancSide.ts). */
function runOrthanc(files: Buffer[]): { figures?: { orthancInstancesPerSecond: number; orthancCpuMsPerInstance: number }; why?: string } {
  if (process.env.BENCH_ORTHANC === '0') return { why: 'BENCH_ORTHANC=0' };
  if (!fs.existsSync('/usr/sbin/Orthanc')) return { why: 'Debian orthanc is not installed: apt-get install -y orthanc' };
  const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-bench-corpus-'));
  try {
    files.forEach((f, i) => fs.writeFileSync(path.join(corpus, `${String(i).padStart(6, '0')}.dcm`), f));
    const r = spawnSync('unshare', ['-n', '--', process.execPath, path.join(__dirname, 'orthancSide.js'), corpus], { encoding: 'utf8', timeout: 30 * 60_000 });
    if (r.status !== 0) return { why: `unshare -n / Orthanc failed (${r.status}): ${(r.stderr || String(r.error ?? '')).trim().slice(0, 300)}` };
    return { figures: JSON.parse(r.stdout.trim().split('\n').at(-1)!) };
  } finally {
    fs.rmSync(corpus, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
