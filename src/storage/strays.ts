import type { Knex } from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import { TEMP_FILE } from './paths.js';
import type { S3BlobStore } from './S3BlobStore.js';
import type { BlobCopy } from './store.js';

/**
 * What a crash or an abandoned run leaves on disk that no row accounts for: blobs no image
 * (and no file still in the pipeline) references, received bytes no submission file row
 * names, and temporary files. Only what has not been touched for `minAgeMs` counts, so work in
 * progress (a blob stored a moment before its row is written, an upload arriving) is never taken.
 */
export interface StrayReport {
  orphanBlobs: string[];
  orphanStaged: string[];
  staleTemps: string[];
  /** Bytes the strays hold. */
  bytes: number;
  removed: boolean;
}

export interface StrayScope {
  /** Local blob roots (primary, backup); none when the archive keeps its blobs in S3. */
  blobRoots: string[];
  /** The S3 store, when the archive keeps its blobs there: its objects and unfinished uploads are looked at instead. */
  objectStore?: S3BlobStore;
  thumbnailRoot: string;
  stagingRoot: string;
  /** Scratch space (download manifests). */
  tmpDir: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const STAGED = /^[0-9a-f-]{36}$/;
const BATCH = 500;

/** Files directly inside `dir` (none if it does not exist), with their stat. */
function filesIn(dir: string): { name: string; file: string; st: fs.Stats }[] {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  return names.flatMap((name) => {
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      return st.isFile() ? [{ name, file, st }] : [];
    } catch { return []; }
  });
}

/** Subdirectories of `dir`. */
function dirsIn(dir: string): string[] {
  try { return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name)); } catch { return []; }
}

export async function findStrays(knex: Knex, scope: StrayScope, opts: { minAgeMs: number; remove: boolean; now?: number }): Promise<StrayReport> {
  const cutoff = (opts.now ?? Date.now()) - opts.minAgeMs;
  const old = (st: fs.Stats) => st.mtimeMs <= cutoff;
  const report: StrayReport = { orphanBlobs: [], orphanStaged: [], staleTemps: [], bytes: 0, removed: opts.remove };
  const strays: string[] = [];
  const take = (list: string[], label: string, file: string, st: fs.Stats) => { list.push(label); strays.push(file); report.bytes += st.size; };

  // Blobs a file still in the pipeline holds (stored, its Image row not yet written): few, so read once.
  const inFlight = new Set<string>((await knex('submission_file').whereNotIn('state', ['INDEXED', 'QUARANTINED', 'DUPLICATE'])
    .whereNotNull('stored_sha256').select('stored_sha256')).map((r: any) => r.stored_sha256));
  const orphanShas = new Set<string>();
  for (const root of [...new Set(scope.blobRoots)]) {
    for (const shard of dirsIn(root)) {
      const files = filesIn(shard);
      for (const f of files) if (TEMP_FILE.test(f.name) && old(f.st)) take(report.staleTemps, path.relative(root, f.file), f.file, f.st);
      const candidates = files.filter((f) => SHA256.test(f.name) && old(f.st) && !inFlight.has(f.name));
      for (let i = 0; i < candidates.length; i += BATCH) {
        const chunk = candidates.slice(i, i + BATCH);
        const held = new Set((await knex('image').whereIn('sha256', chunk.map((c) => c.name)).distinct('sha256')).map((r: any) => r.sha256));
        for (const c of chunk) if (!held.has(c.name)) { orphanShas.add(c.name); strays.push(c.file); report.bytes += c.st.size; }
      }
    }
    for (const f of filesIn(root)) if (TEMP_FILE.test(f.name) && old(f.st)) take(report.staleTemps, path.relative(root, f.file), f.file, f.st);
  }
  const orphanObjects: { sha: string; copy: BlobCopy }[] = [];
  if (scope.objectStore) {
    const store = scope.objectStore;
    for (const copy of ['primary', 'backup'] as const) {
      let batch: { sha256: string; size: number }[] = [];
      const settle = async () => {
        const held = new Set((await knex('image').whereIn('sha256', batch.map((c) => c.sha256)).distinct('sha256')).map((r: any) => r.sha256));
        for (const c of batch) if (!held.has(c.sha256)) { orphanShas.add(c.sha256); orphanObjects.push({ sha: c.sha256, copy }); report.bytes += c.size; }
        batch = [];
      };
      for await (const o of store.list(copy)) {
        if (o.modifiedMs > cutoff || inFlight.has(o.sha256)) continue;
        batch.push(o);
        if (batch.length >= BATCH) await settle();
      }
      if (batch.length) await settle();
    }
    // A multipart upload a killed process left: S3's stale temporary file (its parts hold space until aborted).
    report.staleTemps.push(...await store.staleUploads(cutoff, opts.remove));
  }
  report.orphanBlobs = [...orphanShas].sort();
  // The thumbnail cache is derived data: only its temporary files are strays.
  for (const shard of [scope.thumbnailRoot, ...dirsIn(scope.thumbnailRoot)]) {
    for (const f of filesIn(shard)) if (TEMP_FILE.test(f.name) && old(f.st)) take(report.staleTemps, path.relative(scope.thumbnailRoot, f.file), f.file, f.st);
  }
  // Received bytes: an upload's temporary body, and staged files no row names (the upload died
  // between staging and recording). A repaired copy's original stays: its name prefixes the row's path.
  for (const dir of dirsIn(path.join(scope.stagingRoot, 'submissions'))) {
    const id = Number(path.basename(dir));
    const files = filesIn(dir);
    const rel = (f: { file: string }) => path.relative(scope.stagingRoot, f.file);
    for (const f of files) if (f.name.startsWith('.upload-') && old(f.st)) take(report.staleTemps, rel(f), f.file, f.st);
    const staged = files.filter((f) => STAGED.test(f.name) && old(f.st));
    if (!staged.length || !Number.isSafeInteger(id)) continue;
    const named: string[] = (await knex('submission_file').where('submission_id', id).select('staging_path')).map((r: any) => r.staging_path);
    for (const f of staged) {
      const r = rel(f);
      if (named.some((p) => p === r || p.startsWith(r))) continue;
      take(report.orphanStaged, r, f.file, f.st);
      if (fs.existsSync(`${f.file}.name`)) strays.push(`${f.file}.name`);
    }
  }
  for (const f of filesIn(scope.tmpDir)) if (old(f.st)) take(report.staleTemps, path.join('tmp', f.name), f.file, f.st);
  if (opts.remove) {
    for (const file of strays) await fs.promises.rm(file, { force: true });
    for (const o of orphanObjects) await scope.objectStore!.delete(o.sha, [o.copy]);
  }
  return report;
}
