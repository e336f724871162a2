import { useEffect, useState } from 'preact/hooks';
import { ApiError, authHeader, gql, subscribe } from '../api/client';
import { ADD_CLINICAL_CSV, CREATE_SUBMISSION, PROCESS_SUBMISSION, RESOLVE_QUARANTINED, SUBMISSION, SUBMISSION_PROGRESS } from '../api/operations';
import { ErrorBox, NotFound, QueryView } from '../components/Status';
import { bytes, n } from '../format';
import { useMutation, useQuery, useSession, useTitle } from '../hooks';
import { Link, navigate } from '../router';
import { RequireSignIn } from './SignIn';

// Submissions have no "list mine" query yet; the browser remembers the ones made here, per user:
// a browser is shared (a lab workstation), and one list for all would show the next person who
// signs in another's submission titles under "Your submissions". (The list of the one key every
// user shared before is not shown to anyone: whose it is cannot be told.)
const mineKey = (user: string) => `obia.submissions:${user}`;
function remembered(user: string): { id: number; title: string }[] {
  try {
    const list: unknown = JSON.parse(localStorage.getItem(mineKey(user)) ?? '[]');
    return Array.isArray(list) ? list.filter((m) => m && typeof m.title === 'string' && /^[1-9][0-9]{0,14}$/.test(String(m.id))) : [];
  } catch { return []; }
}
const remember = (user: string, id: number, title: string) =>
  localStorage.setItem(mineKey(user), JSON.stringify([{ id, title }, ...remembered(user).filter((s) => s.id !== id)].slice(0, 50)));

const FINAL = new Set(['INDEXED', 'QUARANTINED', 'DUPLICATE']);

export function NewSubmission() {
  useTitle('Submit');
  const s = useSession();
  const create = useMutation(CREATE_SUBMISSION);
  if (!s) return <RequireSignIn why="submit imaging" />;
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const fd = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(fd.get(k) ?? '').trim();
    const input: Record<string, unknown> = {
      title: text('title'), disease: text('disease'), description: text('description') || undefined,
      keywords: text('keywords') ? text('keywords').split(',').map((k) => k.trim()).filter(Boolean) : undefined,
      accessibility: text('accessibility') || undefined, bioProjectAccession: text('bioProject') || undefined,
    };
    const data = await create.run({ input });
    if (data) {
      remember(s.user, data.createSubmission.id, data.createSubmission.title);
      navigate(`/submit/${data.createSubmission.id}`);
    }
  };
  const mine = remembered(s.user);
  return (
    <>
      <h1>Submit imaging</h1>
      {mine.length ? (
        <section aria-labelledby="mine"><h2 id="mine">Your submissions (from this browser)</h2>
          <ul>{mine.map((m) => <li key={m.id}><Link href={`/submit/${m.id}`}>#{m.id} {m.title}</Link></li>)}</ul>
        </section>) : null}
      <form class="panel form" onSubmit={onSubmit}>
        <h2>New submission</h2>
        <label for="s-title">Title</label><input id="s-title" name="title" required maxLength={200} />
        <label for="s-disease">Disease</label><input id="s-disease" name="disease" required maxLength={200} placeholder="e.g. ovarian cancer" />
        <label for="s-description">Description</label><textarea id="s-description" name="description" rows={3} />
        <label for="s-keywords">Keywords (comma-separated)</label><input id="s-keywords" name="keywords" />
        <label for="s-bioproject">BioProject accession (optional)</label><input id="s-bioproject" name="bioProject" placeholder="PRJCA000000" pattern="PRJ(CA|NA|EB|DB)[0-9]+" />
        <fieldset><legend>Accessibility</legend>
          <label><input type="radio" name="accessibility" value="OPEN" checked /> Open: public once released</label>
          <label><input type="radio" name="accessibility" value="CONTROLLED" /> Controlled: files only on an approved request</label>
        </fieldset>
        <button type="submit" disabled={create.loading}>{create.loading ? 'Creating…' : 'Create submission'}</button>
        <ErrorBox error={create.error} />
      </form>
    </>
  );
}

/** PUTs one file (a DICOM file or a zip of them) with progress, as the upload route expects. */
function put(url: string, file: File, onProgress: (loaded: number) => void): Promise<{ files: unknown[] }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${url}?name=${encodeURIComponent(file.name)}`);
    for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let body: any = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(`${file.name}: ${body.error ?? xhr.statusText}`, `HTTP_${xhr.status}`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError(`${file.name}: the upload was interrupted`, 'NETWORK_ERROR', 0));
    xhr.send(file);
  });
}

function Uploader({ uploadUrl, onDone }: { uploadUrl: string; onDone: () => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [sent, setSent] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [message, setMessage] = useState('');
  const total = files.reduce((s, f) => s + f.size, 0);
  const start = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError(null); setSent(0);
    let before = 0, received = 0;
    try {
      for (const f of files) {
        const body = await put(uploadUrl, f, (loaded) => setSent(before + loaded));
        before += f.size;
        received += body.files?.length ?? 0;
        setSent(before);
      }
      setMessage(`Received ${received} file${received === 1 ? '' : 's'}.`);
      setFiles([]);
      onDone();
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  return (
    <form class="panel" onSubmit={start}>
      <h2>1. Upload files</h2>
      <label for="upload-files">DICOM files or a zip of them</label>
      <input id="upload-files" type="file" multiple accept=".dcm,.dicom,.zip,application/dicom,application/zip" onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])} />
      {files.length ? <p>{files.length} file{files.length === 1 ? '' : 's'}, {bytes(total)}</p> : null}
      <button type="submit" disabled={!files.length || busy}>{busy ? 'Uploading…' : 'Upload'}</button>
      {busy || sent ? <progress max={total || 1} value={sent} aria-label="Upload progress">{Math.round((sent / (total || 1)) * 100)}%</progress> : null}
      {message ? <p role="status">{message}</p> : null}
      <ErrorBox error={error} />
    </form>
  );
}

function ClinicalCsv({ submission }: { submission: string }) {
  const [csv, setCsv] = useState('');
  const add = useMutation(ADD_CLINICAL_CSV);
  return (
    <form class="panel" onSubmit={async (e) => { e.preventDefault(); if (await add.run({ submission, csv })) setCsv(''); }}>
      <h2>2. Clinical data (CSV, optional)</h2>
      <p class="muted">Header: patient_id, sex, age, species, disease, pathological_type, medical_history, family_history, treatment, gsa_human_accession (any other column is refused, not dropped). patient_id matches the files' PatientID; the archive keeps only a keyed hash of it.</p>
      <label for="csv-file">CSV file</label>
      <input id="csv-file" type="file" accept=".csv,text/csv" onChange={async (e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) setCsv(await f.text()); }} />
      <label for="csv-text">or paste it</label>
      <textarea id="csv-text" rows={4} value={csv} onInput={(e) => setCsv((e.target as HTMLTextAreaElement).value)} />
      <button type="submit" disabled={!csv.trim() || add.loading}>{add.loading ? 'Adding…' : 'Add clinical data'}</button>
      {add.data ? <p role="status">{add.data.addClinicalDataCsv} records accepted.</p> : null}
      <ErrorBox error={add.error} />
    </form>
  );
}

function ProgressBar({ progress }: { progress: { total: number; state: string; counts: { state: string; count: number }[] } }) {
  const done = progress.counts.filter((c) => FINAL.has(c.state)).reduce((s, c) => s + c.count, 0);
  return (
    <div class="progress" data-state={progress.state}>
      <progress max={progress.total || 1} value={done} aria-label="Processing progress" />
      <p role="status" aria-live="polite">{progress.state === 'PROCESSED' ? 'Processed: ' : progress.state === 'PROCESSING' ? 'Processing: ' : ''}{done} of {progress.total} files finished
        {' · '}{progress.counts.filter((c) => c.count).map((c) => `${c.state.toLowerCase()} ${c.count}`).join(', ')}</p>
    </div>
  );
}

export function SubmissionPage({ id }: { id: number }) {
  useTitle(`Submission ${id}`);
  const s = useSession();
  const state = useQuery(s ? SUBMISSION : null, { id });
  const [live, setLive] = useState<any>(null);
  const [liveError, setLiveError] = useState<Error | null>(null);
  const process = useMutation(PROCESS_SUBMISSION);
  const resolve = useMutation(RESOLVE_QUARANTINED);
  // 'started' from the moment processSubmission answers (it does not wait for the run) until the
  // live feed reads PROCESSED; then the outcome is the counts of that last event.
  const [run, setRun] = useState<{ phase: 'idle' | 'started' | 'finished'; outcome?: any }>({ phase: 'idle' });
  useEffect(() => {
    if (!s) return;
    // Live counts over graphql-ws (the current state first, then on every state change).
    return subscribe<any>(SUBMISSION_PROGRESS, { submission: String(id) }, (d) => setLive(d.submissionProgress), setLiveError);
  }, [id, s?.token]);
  useEffect(() => { if (state.data?.submission && s) remember(s.user, id, state.data.submission.title); }, [state.data]);
  useEffect(() => {
    if (run.phase !== 'started' || live?.state !== 'PROCESSED') return;
    setRun({ phase: 'finished', outcome: live });
    state.reload();
  }, [live]);
  if (!s) return <RequireSignIn why="see your submission" />;
  const runProcess = async () => {
    const answer = await process.run({ submission: String(id) });
    if (!answer) return;
    setLive(answer.processSubmission.progress);
    setRun({ phase: 'started' });
  };
  const count = (p: any, st: string) => p.counts.find((c: any) => c.state === st)?.count ?? 0;
  return (
    <QueryView state={state} label="Loading the submission…">
      {({ submission: sub }) => !sub ? <NotFound what={`submission ${id}`} /> : (
        <article class="submission">
          <h1>Submission #{sub.id}: {sub.title}</h1>
          <p class="muted">{sub.disease} · {sub.accessibility.toLowerCase()} · collection <Link href={`/collections/${sub.collection.accession}`}>{sub.collection.accession}</Link> ({sub.collection.releaseState.toLowerCase().replace('_', ' ')}) · submitted by {sub.submitter}</p>
          <ProgressBar progress={live ?? sub.progress} />
          <ErrorBox error={liveError} />
          <div class="steps">
            <Uploader uploadUrl={sub.uploadUrl} onDone={state.reload} />
            <ClinicalCsv submission={sub.id} />
            <section class="panel">
              <h2>3. Process</h2>
              <p class="muted">Screens, de-identifies (PS3.15 Annex E), stores and indexes every file not yet finished. Safe to repeat.</p>
              <button type="button" onClick={runProcess} disabled={process.loading || run.phase === 'started' || sub.progress.total === 0} aria-busy={process.loading || run.phase === 'started'}>{process.loading || run.phase === 'started' ? 'Processing…' : 'Process submission'}</button>
              {run.outcome ? <p role="status" class="result">Finished: {count(run.outcome, 'INDEXED') + count(run.outcome, 'STORED')} ingested, {count(run.outcome, 'QUARANTINED')} quarantined, {count(run.outcome, 'DUPLICATE')} duplicates{run.outcome.unmatchedClinicalRecords ? `, ${run.outcome.unmatchedClinicalRecords} clinical records matched no file` : ''}.</p> : null}
              <ErrorBox error={process.error} />
            </section>
          </div>
          {sub.qcSummary.releaseBlockers.length ? (
            <section aria-labelledby="blockers"><h2 id="blockers">Before release</h2>
              <ul>{sub.qcSummary.releaseBlockers.map((b: any) => <li key={b.reason}><strong>{b.reason}</strong> ({b.count}): {b.message}</li>)}</ul></section>) : null}
          <section aria-labelledby="files"><h2 id="files">Files ({n(sub.files.totalCount)})</h2>
            <ErrorBox error={resolve.error} />
            <div class="table-wrap"><table class="list compact">
              <thead><tr><th scope="col">#</th><th scope="col">Name</th><th scope="col">Size</th><th scope="col">State</th><th scope="col">Why</th><th scope="col">Action</th></tr></thead>
              <tbody>{sub.files.edges.map((e: any) => e.node).map((f: any) => (
                <tr key={f.id} class={f.state === 'QUARANTINED' ? 'quarantined' : ''}>
                  <td>{f.id}</td><td>{f.originalName}</td><td>{bytes(f.size)}</td><td><span class={`state ${f.state.toLowerCase()}`}>{f.state.toLowerCase()}</span>{f.resolution ? ` (${f.resolution.toLowerCase()})` : ''}</td>
                  <td>{f.quarantineReason ? <><code>{f.quarantineReason}</code> {f.quarantineMessage}</> : f.heldForPixelReview ? `held for pixel review: ${f.heldForPixelReview}` : ''}{f.repairRequest ? <div>Curator asks: {f.repairRequest}</div> : null}</td>
                  <td>{f.state === 'QUARANTINED' && !f.resolution ? <button type="button" class="secondary" onClick={async () => { if (await resolve.run({ file: f.id, action: 'DISCARD' })) state.reload(); }}>Discard</button> : null}</td>
                </tr>))}</tbody>
            </table></div>
          </section>
        </article>
      )}
    </QueryView>
  );
}
