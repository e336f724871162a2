import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What an offline import (`npm run ingest`) has done so far, so that the same command run again
 * after a crash resumes it: the submission it fills, each run's process id (whose temporary
 * files a later run may remove once that process is gone), and every source file fully received.
 *
 * One file per source folder and title, appended a line at a time and fsynced, in the staging
 * area: source paths can name patients, so the journal lives beside the received bytes (never
 * served) and never in the database.
 */
export interface JournalState {
  submissionId: number | null;
  /** Relative source paths received in full, with the size and mtime they had. */
  received: Map<string, { size: number; mtimeMs: number }>;
  /** Process ids of earlier runs. */
  pids: number[];
  finished: boolean;
}

type Line =
  | { kind: 'import'; dir: string; title: string; at: string }
  | { kind: 'submission'; id: number }
  | { kind: 'run'; pid: number; at: string }
  | { kind: 'file'; path: string; size: number; mtimeMs: number }
  | { kind: 'finished'; at: string };

export class ImportJournal {
  private fd: number | null = null;

  private constructor(readonly file: string, readonly state: JournalState) {}

  /** The journal of importing `dir` under `title` (the folder's real path and the title name it). */
  static keyOf(dir: string, title: string): string {
    return crypto.createHash('sha256').update(`${fs.realpathSync(dir)}\0${title}`).digest('hex').slice(0, 32);
  }

  static open(stagingRoot: string, dir: string, title: string): ImportJournal {
    const folder = path.join(stagingRoot, 'imports');
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const file = path.join(folder, `${ImportJournal.keyOf(dir, title)}.jsonl`);
    const state: JournalState = { submissionId: null, received: new Map(), pids: [], finished: false };
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { /* a new import */ }
    for (const raw of text.split('\n')) {
      let line: Line;
      // A line cut short by the crash is the only one that can fail to parse: it never happened.
      try { line = JSON.parse(raw); } catch { continue; }
      if (line.kind === 'submission') state.submissionId = line.id;
      else if (line.kind === 'run') state.pids.push(line.pid);
      else if (line.kind === 'file') state.received.set(line.path, { size: line.size, mtimeMs: line.mtimeMs });
      else if (line.kind === 'finished') state.finished = true;
    }
    const journal = new ImportJournal(file, state);
    if (!text) journal.append({ kind: 'import', dir: fs.realpathSync(dir), title, at: new Date().toISOString() });
    else if (!text.endsWith('\n')) journal.write('\n');
    return journal;
  }

  private write(text: string): void {
    this.fd ??= fs.openSync(this.file, 'a', 0o600);
    fs.writeSync(this.fd, text);
    fs.fdatasyncSync(this.fd);
  }

  private append(line: Line): void {
    this.write(`${JSON.stringify(line)}\n`);
  }

  setSubmission(id: number): void {
    this.state.submissionId = id;
    this.append({ kind: 'submission', id });
  }

  startRun(pid: number): void {
    this.append({ kind: 'run', pid, at: new Date().toISOString() });
  }

  /** Whether `rel` was received in full, as it is now (a file changed since is received again). */
  has(rel: string, st: fs.Stats): boolean {
    const r = this.state.received.get(rel);
    return !!r && r.size === st.size && r.mtimeMs === st.mtimeMs;
  }

  received(rel: string, st: fs.Stats): void {
    this.state.received.set(rel, { size: st.size, mtimeMs: st.mtimeMs });
    this.append({ kind: 'file', path: rel, size: st.size, mtimeMs: st.mtimeMs });
  }

  finish(): void {
    this.state.finished = true;
    this.append({ kind: 'finished', at: new Date().toISOString() });
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Whether a process with this id is running (on this machine). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
