// `npm run ingest -- <dir> --title "…" --disease "…" [--clinical records.csv] [--collection OBIA0007]`
// Offline import for curators (as OBIA receives data): stages every file under <dir> (DICOM
// files and zips) into a submission in the archive OBIA_DATA_DIR / DATABASE_URL name, runs the
// pipeline with progress on stderr (a bar on a terminal, one line per step otherwise), and ends
// with one summary line on stdout.
//
// Crash-safe: the same command run again after the import was killed resumes the same
// submission (found by the source folder and the title, through a journal in the staging area),
// receives only what was not received in full, clears what the killed run left half done, and
// finishes the pipeline; run again after it finished, it changes nothing and prints the summary.
// `--submission <id>` resumes a named submission; `--new` starts a separate one.
import 'reflect-metadata';
import type { EntityManager } from '@mikro-orm/knex';
import { SingleBar, Presets } from 'cli-progress';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Role, type Principal } from '../auth/Principal.js';
import { loadConfig, type Config } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { LocalBlobStore } from '../storage/BlobStore.js';
import { blobStoreSpecOf } from '../storage/open.js';
import { alive, ImportJournal } from './importJournal.js';
import { createIngest, UploadError } from './index.js';

const USAGE = 'usage: npm run ingest -- <dir> --title "…" --disease "…" [--clinical records.csv] [--collection OBIA0007] [--submission <id> | --new]';

class UsageError extends Error {}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile() && !d.name.startsWith('.'))
    .map((d) => path.join((d as any).parentPath ?? (d as any).path, d.name))
    .sort();
}

const STAGING_LANES = 4;
const STAGED = /^[0-9a-f-]{36}$/;
const TEMP_OF_PID = /^[0-9a-f]{64}\.(\d+)\.[0-9a-f]{12}\.tmp$|^\.direct-probe-(\d+)-[0-9a-f]{12}$/;

/** Progress on stderr: a bar on a terminal, else a line per step (what logs and supervising programs read). */
function progress(label: string, total: number): { update(done: number, total?: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ stream: process.stderr, format: `${label} [{bar}] {value}/{total} files | {eta_formatted} left` }, Presets.shades_classic);
    bar.start(total, 0);
    return { update: (done, t) => { if (t !== undefined) bar.setTotal(t); bar.update(done); }, stop: () => bar.stop() };
  }
  let last = -1;
  return {
    update: (done, t) => { if (done !== last) { last = done; process.stderr.write(`${label} ${done}/${t ?? total}\n`); } },
    stop: () => {},
  };
}

/**
 * Removes what runs of this import killed before they finished left behind: temporary upload
 * bodies and received files no row names in the submission's staging folder (the rows are
 * the record; a file without one was never acknowledged), and temporary blob files of the dead
 * processes (their names carry the writer's process id).
 */
async function clearLeftovers(em: EntityManager, config: Config, submissionId: number, deadPids: number[]): Promise<number> {
  let removed = 0;
  const dir = path.join(config.stagingDir, 'submissions', String(submissionId));
  const named: string[] = (await em.getKnex()('submission_file').where('submission_id', submissionId).select('staging_path')).map((r: any) => r.staging_path);
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const rel = path.join('submissions', String(submissionId), name);
    const stray = name.startsWith('.upload-') || (STAGED.test(name) && !named.some((p) => p === rel || p.startsWith(rel)));
    if (stray) {
      fs.rmSync(path.join(dir, name), { force: true });
      fs.rmSync(path.join(dir, `${name}.name`), { force: true });
      removed++;
    }
  }
  if (!deadPids.length) return removed;
  const dead = new Set(deadPids.map(String));
  // Local roots only: an S3 store has no temporary objects (a dead upload is aborted by verify-storage).
  const spec = blobStoreSpecOf(config);
  const roots = spec.kind === 'local' ? [spec.primaryRoot, spec.backupRoot] : [];
  for (const root of new Set([...roots, LocalBlobStore.thumbnailsOf(config).primaryRoot])) {
    if (!fs.existsSync(root)) continue;
    const shards = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(root, d.name));
    for (const shard of [root, ...shards]) {
      for (const name of fs.readdirSync(shard)) {
        const m = TEMP_OF_PID.exec(name);
        if (m && dead.has(m[1] ?? m[2]!)) { fs.rmSync(path.join(shard, name), { force: true }); removed++; }
      }
    }
  }
  return removed;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      title: { type: 'string' }, disease: { type: 'string' }, description: { type: 'string' },
      clinical: { type: 'string' }, collection: { type: 'string' }, submitter: { type: 'string' },
      submission: { type: 'string' }, new: { type: 'boolean' },
      'no-thumbnails': { type: 'boolean' },
    },
  });
  const dir = positionals[0];
  if (!dir || !values.title || !values.disease) throw new UsageError(USAGE);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`not a directory: ${dir}`);
  const named = values.submission === undefined ? null : Number(values.submission);
  if (named !== null && !Number.isSafeInteger(named)) throw new UsageError('--submission takes a submission id');
  if (named !== null && values.new) throw new UsageError('--submission and --new exclude each other');
  const config = loadConfig();

  let journal = ImportJournal.open(config.stagingDir, dir, values.title);
  const running = journal.state.pids.filter((pid) => pid !== process.pid && alive(pid));
  if (running.length) throw new UsageError(`an import of this folder under this title is running (process ${running.join(', ')}); wait for it or stop it first`);
  if (values.new && journal.state.submissionId !== null) {
    // The earlier import keeps its journal under another name; this one starts afresh.
    journal.close();
    fs.renameSync(journal.file, `${journal.file}.${Date.now()}.superseded`);
    journal = ImportJournal.open(config.stagingDir, dir, values.title);
  }
  if (named !== null && journal.state.submissionId !== null && journal.state.submissionId !== named) {
    throw new UsageError(`this folder was imported under this title as submission ${journal.state.submissionId}, not ${named}; rerun without --submission to resume it, or with --new for a separate one`);
  }

  // The primary only (never a read replica): the pipeline's reads decide what it writes next.
  const orm = await openDatabase({ ...config, databaseReplicas: [] });
  const em = () => orm.em.fork() as EntityManager;
  const ingest = createIngest(orm, config, (m) => process.stderr.write(`${m}\n`), { thumbnails: !values['no-thumbnails'] });
  await ingest.verifySecret();
  // Offline imports are a curator's act: the archive, not a remote user, vouches for them.
  const curator: Principal = { id: values.submitter ?? 'curator:cli', name: null, email: null, institution: null, roles: [Role.CURATOR] };
  try {
    let submissionId = named ?? journal.state.submissionId;
    const resumed = submissionId !== null;
    if (submissionId === null && !values.new) {
      // Killed after the submission was created but before the journal named it: an empty
      // unfinished submission of the same title is that one (nothing in it to lose); one that
      // holds files may be someone else's work, so it is named, not taken.
      const unfinished: { id: number; files: number }[] = (await em().getKnex()('submission as s')
        .leftJoin('submission_file as f', 'f.submission_id', 's.id')
        .where({ 's.submitter': curator.id, 's.title': values.title.trim() }).whereIn('s.state', ['OPEN', 'PROCESSING'])
        .groupBy('s.id').select('s.id').count({ files: 'f.id' })).map((r: any) => ({ id: Number(r.id), files: Number(r.files) }));
      const empty = unfinished.find((s) => s.files === 0);
      if (empty) submissionId = empty.id;
      else if (unfinished.length) {
        throw new UsageError(`unfinished submission${unfinished.length > 1 ? 's' : ''} ${unfinished.map((s) => s.id).join(', ')} titled "${values.title}" ${unfinished.length > 1 ? 'exist' : 'exists'} from an earlier import without a record of its folder; resume one with --submission <id>, or pass --new to start a separate submission`);
      }
    }
    if (submissionId === null) {
      const submission = await ingest.submissions.create(curator, {
        title: values.title, disease: values.disease, description: values.description ?? '', collectionAccession: values.collection ?? null,
      });
      submissionId = submission.id;
    } else {
      await ingest.submissions.findOrFail(curator, submissionId);
    }
    if (journal.state.submissionId !== submissionId) journal.setSubmission(submissionId);
    const earlier = journal.state.pids.filter((pid) => pid !== process.pid);
    journal.startRun(process.pid);
    if (resumed || earlier.length) {
      const cleared = await clearLeftovers(em(), config, submissionId, earlier);
      process.stderr.write(`resuming submission ${submissionId}${cleared ? `: cleared ${cleared} files an interrupted run left` : ''}\n`);
    }

    // SIGTERM or Ctrl-C while staging: the files being received finish, no new one starts, and the
    // import stops resumable. While processing, the pipeline's own checkpoints make stopping at
    // once as safe as a crash: the same command resumes either way.
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping || phase === 'processing') {
        process.stderr.write(`\n${signal}: stopped; run the same command to resume submission ${submissionId}\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      process.stderr.write(`\n${signal}: finishing the files being received; run the same command to resume\n`);
    };
    let phase: 'staging' | 'processing' = 'staging';
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const files = filesUnder(dir);
    // Bytes received by a run killed between staging a file and journalling it: its rows are there.
    const held = resumed ? new Set<string>((await em().getKnex()('submission_file').where('submission_id', submissionId).select('sha256')).map((r: any) => r.sha256)) : new Set<string>();
    let received = 0;
    let already = 0;
    let refused = 0;
    let next = 0;
    let staged = 0;
    const bar = progress('staged', files.length);
    // A few files at once: staging waits on fsync and the database, not on the CPU.
    await Promise.all(Array.from({ length: Math.min(STAGING_LANES, files.length) }, async () => {
      while (next < files.length && !stopping) {
        const file = files[next++]!;
        const rel = path.relative(dir, file);
        const st = fs.statSync(file);
        if (journal.has(rel, st)) {
          already++;
        } else if (held.size && held.has(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'))) {
          journal.received(rel, st);
          already++;
        } else {
          const body = fs.createReadStream(file);
          try {
            // Awaited first, then added: `received += await …` would read `received` before the await and lose other lanes' counts.
            const got = await ingest.submissions.receive(curator, submissionId!, body, rel);
            received += got.length;
            journal.received(rel, st);
          } catch (err) {
            // One refused file (over the size limit, a zip bomb) must not stop the import of the rest.
            if (!(err instanceof UploadError)) throw err;
            refused++;
            process.stderr.write(`\nrefused ${rel}: ${err.message}\n`);
          } finally {
            body.destroy();
          }
        }
        bar.update(++staged);
      }
    }));
    bar.stop();
    if (stopping) {
      process.stderr.write(`stopped after receiving ${staged} of ${files.length} source files; run the same command to resume submission ${submissionId}\n`);
      process.exitCode = 143;
      return;
    }
    phase = 'processing';
    process.stderr.write(`submission ${submissionId}: received ${received} files${already ? ` (${already} source files received by an earlier run)` : ''}${refused ? `, refused ${refused}` : ''}\n`);
    if (values.clinical) await ingest.submissions.addClinicalCsv(curator, submissionId, fs.readFileSync(values.clinical, 'utf8'));
    const pipeline = progress('processed', received);
    const summary = await ingest.pipeline.process(submissionId, (done, total) => pipeline.update(done, total));
    pipeline.stop();
    journal.finish();
    console.log(`submission ${submissionId}: ingested ${summary.ingested}, quarantined ${summary.quarantined}, duplicates ${summary.duplicates}`);
  } finally {
    journal.close();
    await ingest.pipeline.cpu.close?.();
    await orm.close(true);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof UsageError ? 2 : 1);
});
