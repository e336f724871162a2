import { useState } from 'preact/hooks';
import { COLLECTION_TITLE, MY_REQUESTS, REQUEST_ACCESS, REVIEW_QUEUE, REVIEW_REQUEST } from '../api/operations';
import { DownloadButton } from '../components/Download';
import { ErrorBox, NotFound, QueryView } from '../components/Status';
import { date } from '../format';
import { useMutation, useQuery, useSession, useTitle } from '../hooks';
import { Link } from '../router';
import { RequireSignIn } from './SignIn';

function RequestRow({ r, children }: { r: any; children?: preact.ComponentChildren }) {
  return (
    <li class="card request" data-state={r.state}>
      <h3><Link href={`/collections/${r.collection.accession}`}>{r.collection.accession}</Link> {r.collection.title} <span class={`badge state-${r.state.toLowerCase()}`}>{r.state.toLowerCase()}</span></h3>
      <dl class="facts">
        {r.requester ? <div><dt>Requester</dt><dd>{r.requester.name ?? r.requester.id}{r.institution ? `, ${r.institution}` : ''}</dd></div> : null}
        <div><dt>Purpose</dt><dd>{r.purpose}</dd></div>
        <div><dt>Scope of use</dt><dd>{r.scopeOfUse}</dd></div>
        <div><dt>Pledge not to re-identify</dt><dd>{r.pledgeNotToReidentify ? 'yes' : 'no'}</dd></div>
        <div><dt>Requested</dt><dd>{date(r.createdAt)}</dd></div>
        {r.reviewedAt ? <div><dt>Decided</dt><dd>{date(r.reviewedAt)} by {r.reviewer}{r.decisionNote ? `: ${r.decisionNote}` : ''}</dd></div> : null}
        {r.expiresAt ? <div><dt>Until</dt><dd>{date(r.expiresAt)}</dd></div> : null}
      </dl>
      {children}
    </li>
  );
}

export function RequestAccess({ accession }: { accession: string }) {
  useTitle(`Request access to ${accession}`);
  const s = useSession();
  const state = useQuery(s ? COLLECTION_TITLE : null, { accession });
  const request = useMutation(REQUEST_ACCESS);
  if (!s) return <RequireSignIn why="request access" />;
  const submit = async (e: Event) => {
    e.preventDefault();
    const fd = new FormData(e.currentTarget as HTMLFormElement);
    await request.run({ collection: accession, input: { purpose: String(fd.get('purpose')), scopeOfUse: String(fd.get('scope')), institution: String(fd.get('institution')), pledgeNotToReidentify: fd.get('pledge') === 'on' } });
  };
  return (
    <QueryView state={state} label="Loading the collection…">
      {({ collection: c }) => !c ? <NotFound what={`collection ${accession}`} /> : request.data ? (
        <div role="status" class="notice"><p>Your request for <Link href={`/collections/${c.accession}`}>{c.accession}</Link> was sent; its owner decides. Follow it under <Link href="/access">My requests</Link>.</p></div>
      ) : (
        <form class="panel form" onSubmit={submit}>
          <h1>Request access to {c.accession}</h1>
          <p>{c.title}</p>
          {!c.viewerCanRequestAccess ? <p class="notice">{c.viewerCanDownload ? 'You already have access to this collection.' : c.accessibility === 'OPEN' ? 'This collection is open: no request is needed.' : 'You have a request pending or decided for this collection; see My requests.'}</p> : null}
          <label for="purpose">Purpose: what will the data be used for?</label>
          <textarea id="purpose" name="purpose" required rows={3} minLength={10} />
          <label for="scope">Scope of use: who will handle the data, where, and for how long?</label>
          <textarea id="scope" name="scope" required rows={3} minLength={10} />
          <label for="institution">Institution</label>
          <input id="institution" name="institution" required />
          <div class="pledge"><input type="checkbox" id="pledge" name="pledge" required /><label for="pledge">I pledge not to attempt to re-identify any individual in this data.</label></div>
          <button type="submit" disabled={request.loading || !c.viewerCanRequestAccess}>{request.loading ? 'Sending…' : 'Send request'}</button>
          <ErrorBox error={request.error} />
        </form>
      )}
    </QueryView>
  );
}

export function MyRequests() {
  useTitle('My access requests');
  const s = useSession();
  const state = useQuery(s ? MY_REQUESTS : null);
  if (!s) return <RequireSignIn why="see your access requests" />;
  return (
    <>
      <h1>My access requests</h1>
      <p><Link href="/access/review">Requests waiting for your review</Link></p>
      <QueryView state={state} label="Loading your requests…">
        {(d) => d.myAccessRequests.length === 0 ? <p class="notice">You have not requested access to any collection. Controlled collections offer “Request access” on their page.</p> : (
          <ul class="cards">{d.myAccessRequests.map((r: any) => (
            <RequestRow r={r} key={r.id}>
              {r.state === 'APPROVED' ? <DownloadButton target={{ collection: r.collection.accession }} label={`Download ${r.collection.accession}`} /> : null}
            </RequestRow>))}</ul>
        )}
      </QueryView>
    </>
  );
}

function Decide({ r, onDone }: { r: any; onDone: () => void }) {
  const [note, setNote] = useState('');
  const review = useMutation(REVIEW_REQUEST);
  const decide = async (decision: 'APPROVE' | 'REJECT') => { if (await review.run({ id: r.id, decision, note: note || null })) onDone(); };
  return (
    <div class="decide">
      <label for={`note-${r.id}`}>Note to the requester (optional)</label>
      <input id={`note-${r.id}`} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      <div class="row">
        <button type="button" onClick={() => decide('APPROVE')} disabled={review.loading}>Approve</button>
        <button type="button" class="danger" onClick={() => decide('REJECT')} disabled={review.loading}>Reject</button>
      </div>
      <ErrorBox error={review.error} />
    </div>
  );
}

export function ReviewQueue() {
  useTitle('Review access requests');
  const s = useSession();
  const state = useQuery(s ? REVIEW_QUEUE : null);
  if (!s) return <RequireSignIn why="review access requests" />;
  return (
    <>
      <h1>Access requests to review</h1>
      <p class="muted">Pending requests for the collections you own or review for. Every decision is audited.</p>
      <QueryView state={state} label="Loading the review queue…">
        {(d) => d.pendingAccessRequests.length === 0 ? <p class="notice" role="status">No requests are waiting for you.</p> : (
          <ul class="cards">{d.pendingAccessRequests.map((r: any) => <RequestRow r={r} key={r.id}><Decide r={r} onDone={state.reload} /></RequestRow>)}</ul>
        )}
      </QueryView>
    </>
  );
}
