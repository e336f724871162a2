import { useState } from 'preact/hooks';
import { CURATION, CURATION_SERIES, RELEASE_COLLECTION, RESOLVE_QUARANTINED, REVIEW_SERIES } from '../api/operations';
import { AuthImage } from '../components/AuthImage';
import { ErrorBox, NotFound, QueryView } from '../components/Status';
import { date, n } from '../format';
import { hasRole } from '../auth';
import { useMutation, useQuery, useSession, useTitle } from '../hooks';
import { Link, navigate } from '../router';
import { RequireSignIn } from './SignIn';

export function CurationStart() {
  useTitle('Curation');
  const s = useSession();
  if (!s) return <RequireSignIn why="curate submissions" />;
  return (
    <>
      <h1>Curation</h1>
      {!hasRole(s, 'curator') ? <p class="notice">Curation needs the curator role; you are signed in as {s.roles.join(', ')}.</p> : null}
      <form class="panel form" onSubmit={(e) => { e.preventDefault(); const id = new FormData(e.currentTarget as HTMLFormElement).get('id'); navigate(`/curation/${id}`); }}>
        <label for="sub-id">Submission number</label>
        <input id="sub-id" name="id" type="number" min={1} required />
        <button type="submit">Open</button>
      </form>
    </>
  );
}

function SeriesReview({ accession, onChange }: { accession: string; onChange: () => void }) {
  const state = useQuery(CURATION_SERIES, { collection: [accession] });
  const review = useMutation(REVIEW_SERIES);
  const [notes, setNotes] = useState<Record<string, string>>({});
  // The verdict names how many images the curator saw: if more joined since, it is refused (CONFLICT, shown) and the list reloads.
  const decide = async (uid: string, verdict: 'PASS' | 'FAIL', imageCount: number) => {
    if (await review.run({ uid, verdict, note: notes[uid] ?? '', imageCount })) { state.reload(); onChange(); } else state.reload();
  };
  return (
    <section aria-labelledby="review"><h2 id="review">Series review</h2>
      <ErrorBox error={review.error} />
      <QueryView state={state} label="Loading series…">
        {(d) => (
          <ul class="grid review">{d.seriesList.edges.map(({ node: s }: any) => (
            <li class="tile" key={s.uid} data-review={s.reviewState}>
              <AuthImage src={s.previewUrl} alt={`Preview of ${s.modality} series ${s.uid}`} width={192} height={192} class="preview" />
              <span class="tile-label"><Link href={`/series/${s.uid}`}>{s.modality} {s.anatomicalSite ?? ''}</Link> · {n(s.imageCount)} images · {s.study.accession}</span>
              <span class={`state ${String(s.reviewState).toLowerCase()}`}>{String(s.reviewState ?? 'unreviewed').toLowerCase()}{s.review ? ` by ${s.review.reviewer}${s.review.note ? `: ${s.review.note}` : ''}` : ''}</span>
              <label for={`note-${s.uid}`} class="sr-only">Note on series {s.uid}</label>
              <input id={`note-${s.uid}`} placeholder="What you saw (optional)" value={notes[s.uid] ?? ''} onInput={(e) => setNotes({ ...notes, [s.uid]: (e.target as HTMLInputElement).value })} />
              <div class="row">
                <button type="button" onClick={() => decide(s.uid, 'PASS', s.imageCount)} disabled={review.loading}>Pass</button>
                <button type="button" class="danger" onClick={() => decide(s.uid, 'FAIL', s.imageCount)} disabled={review.loading}>Fail</button>
              </div>
            </li>))}</ul>
        )}
      </QueryView>
    </section>
  );
}

export function CurationPage({ id }: { id: number }) {
  useTitle(`Curate submission ${id}`);
  const s = useSession();
  const state = useQuery(s ? CURATION : null, { id });
  const release = useMutation(RELEASE_COLLECTION);
  const resolve = useMutation(RESOLVE_QUARANTINED);
  if (!s) return <RequireSignIn why="curate submissions" />;
  return (
    <QueryView state={state} label="Loading the submission…">
      {({ submission: sub }) => !sub ? <NotFound what={`submission ${id}`} /> : (
        <article>
          <h1>Curate submission #{sub.id}: {sub.title}</h1>
          <p class="muted">Collection <Link href={`/collections/${sub.collection.accession}`}>{sub.collection.accession}</Link> · {sub.collection.releaseState.toLowerCase().replace('_', ' ')} · submitted by {sub.submitter} · {n(sub.progress.total)} files</p>
          <section class="panel" aria-labelledby="release"><h2 id="release">Release</h2>
            {sub.qcSummary.releaseBlockers.length ? <ul class="blockers">{sub.qcSummary.releaseBlockers.map((b: any) => <li key={b.reason}><strong>{b.reason}</strong> ({b.count}): {b.message}</li>)}</ul> : <p>Nothing blocks release.</p>}
            <button type="button" onClick={async () => { await release.run({ accession: sub.collection.accession }); state.reload(); }} disabled={release.loading || sub.collection.releaseState === 'RELEASED'}>
              {sub.collection.releaseState === 'RELEASED' ? 'Released' : release.loading ? 'Releasing…' : `Release ${sub.collection.accession}`}</button>
            {release.data ? <p role="status">{release.data.releaseCollection.released ? `Released ${date(release.data.releaseCollection.collection.releasedAt)}.` : `Refused: ${release.data.releaseCollection.blockers.map((b: any) => b.message).join('; ')}`}</p> : null}
            <ErrorBox error={release.error} />
          </section>
          <section aria-labelledby="quarantine"><h2 id="quarantine">Quarantine ({sub.qcSummary.unresolvedQuarantined} unresolved of {sub.qcSummary.quarantined})</h2>
            <ErrorBox error={resolve.error} />
            {sub.files.edges.map((e: any) => e.node).filter((f: any) => f.state === 'QUARANTINED' || f.heldForPixelReview).length === 0 ? <p>No quarantined files.</p> : (
              <table class="list compact"><thead><tr><th scope="col">#</th><th scope="col">File</th><th scope="col">Reason</th><th scope="col">Resolution</th></tr></thead>
                <tbody>{sub.files.edges.map((e: any) => e.node).filter((f: any) => f.state === 'QUARANTINED' || f.heldForPixelReview).map((f: any) => (
                  <tr key={f.id}><td>{f.id}</td><td>{f.originalName}</td>
                    <td>{f.quarantineReason ? <><code>{f.quarantineReason}</code> {f.quarantineMessage}</> : `held for pixel review: ${f.heldForPixelReview}`}</td>
                    <td>{f.resolution?.toLowerCase() ?? (f.state === 'QUARANTINED' ? <button type="button" class="secondary" onClick={async () => { if (await resolve.run({ file: f.id, action: 'DISCARD' })) state.reload(); }}>Discard</button> : '')}</td></tr>))}</tbody></table>
            )}
          </section>
          <SeriesReview accession={sub.collection.accession} onChange={state.reload} />
          <section aria-labelledby="census"><h2 id="census">Tag census (text-valued tags)</h2>
            <p class="muted">Every text tag left in the de-identified files, with sample values: confirm none identifies a person.</p>
            <div class="table-wrap"><table class="list compact census">
              <thead><tr><th scope="col">Tag</th><th scope="col">Keyword</th><th scope="col">VR</th><th scope="col" class="num">Files</th><th scope="col" class="num">Distinct</th><th scope="col">Samples</th><th scope="col">Retained by profile</th></tr></thead>
              <tbody>{sub.tagCensus.map((t: any) => (
                <tr key={t.tag}><td class="uid">{t.tag}</td><td>{t.keyword ?? t.privateCreator ?? ''}</td><td>{t.vr}</td><td class="num">{t.files}</td><td class="num">{t.distinctValues}{t.distinctValuesCapped ? '+' : ''}</td><td class="samples">{t.sampleValues.join(' | ')}</td><td>{t.retained ? 'yes' : 'no'}</td></tr>))}</tbody>
            </table></div>
          </section>
          <section aria-labelledby="history"><h2 id="history">QC history</h2>
            <ol class="history">{sub.qcHistory.map((e: any) => <li key={e.id}>{date(e.at)} · {e.actor} · <strong>{e.kind.toLowerCase()}</strong> {e.subject}: {e.message}</li>)}</ol>
          </section>
        </article>
      )}
    </QueryView>
  );
}
