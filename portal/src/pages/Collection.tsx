import { COLLECTION } from '../api/operations';
import { DownloadButton } from '../components/Download';
import { NotFound, QueryView } from '../components/Status';
import { bioProjectHref, date, gsaHumanHref, n, sexLabel } from '../format';
import { useQuery, useSession, useTitle } from '../hooks';
import { Link, useLocation } from '../router';

/** What the caller may do with a collection's files, from the viewerCan* fields. */
export function AccessPanel({ c }: { c: { accession: string; accessibility: string; viewerCanDownload: boolean; viewerCanRequestAccess: boolean; viewerCanReviewRequests?: boolean } }) {
  const s = useSession();
  return (
    <section class="panel" aria-labelledby="files-heading">
      <h2 id="files-heading">Files</h2>
      {c.viewerCanDownload ? <DownloadButton target={{ collection: c.accession }} label={`Download ${c.accession} (DICOM zip)`} />
        : c.viewerCanRequestAccess ? <p>This collection is controlled. <Link href={`/access/request/${c.accession}`} class="button">Request access</Link></p>
        : !s ? <p>{c.accessibility === 'CONTROLLED' ? 'Controlled collection: ' : ''}<Link href={`/sign-in?next=${encodeURIComponent(location.pathname)}`}>Sign in</Link> to download{c.accessibility === 'CONTROLLED' ? ' or request access' : ''}.</p>
        : <p class="muted">{c.accessibility === 'CONTROLLED' ? 'Your access request is pending or was not approved; see ' : 'Downloads are not available to you for this collection; see '}<Link href="/access">your requests</Link>.</p>}
      {c.viewerCanReviewRequests ? <p><Link href="/access/review">Review access requests for your collections</Link></p> : null}
    </section>
  );
}

export function CollectionPage({ accession }: { accession: string }) {
  useTitle(accession);
  const after = useLocation().query.get('after') || undefined;
  const state = useQuery(COLLECTION, { accession, after });
  return (
    <QueryView state={state} label="Loading the collection…">
      {({ collection: c }) => !c ? <NotFound what={`collection ${accession}`} /> : (
        <article>
          <nav class="crumbs" aria-label="Breadcrumb"><Link href="/browse">Browse</Link> › {c.accession}</nav>
          <h1>{c.title} <span class="accession">{c.accession}</span></h1>
          <p class="badges"><span class={`badge ${c.accessibility.toLowerCase()}`}>{c.accessibility.toLowerCase()}</span> <span class="badge">{c.releaseState.toLowerCase().replace('_', ' ')}</span></p>
          <p class="description">{c.description || 'No description.'}</p>
          <dl class="facts">
            <div><dt>Disease</dt><dd>{c.disease}</dd></div>
            <div><dt>Keywords</dt><dd>{c.keywords.length ? c.keywords.join(', ') : '—'}</dd></div>
            <div><dt>BioProject</dt><dd>{c.bioProjectAccession ? <a href={bioProjectHref(c.bioProjectAccession)} rel="noopener noreferrer" target="_blank">{c.bioProjectAccession} ↗</a> : '—'}</dd></div>
            <div><dt>Submitter</dt><dd>{c.submitterOrganization ?? c.submitter}</dd></div>
            <div><dt>Released</dt><dd>{date(c.releasedAt)}</dd></div>
          </dl>
          <section aria-labelledby="modalities"><h2 id="modalities">Imaging</h2>
            <table class="list compact"><thead><tr><th scope="col">Modality</th><th scope="col" class="num">Studies</th><th scope="col" class="num">Series</th><th scope="col" class="num">Images</th></tr></thead>
              <tbody>{c.seriesCountsByModality.map((m: any) => <tr key={m.modality}><td><Link href={`/browse?collection=${c.accession}&modality=${m.modality}`}>{m.modality}</Link></td><td class="num">{n(m.studies)}</td><td class="num">{n(m.series)}</td><td class="num">{n(m.images)}</td></tr>)}</tbody></table>
          </section>
          <AccessPanel c={c} />
          <section aria-labelledby="individuals"><h2 id="individuals">Individuals ({n(c.individuals.totalCount)})</h2>
            <div class="table-wrap"><table class="list">
              <thead><tr><th scope="col">Individual</th><th scope="col">Sex</th><th scope="col" class="num">Age</th><th scope="col">Disease</th><th scope="col">Pathological type</th><th scope="col">GSA-Human</th><th scope="col" class="num">Studies</th></tr></thead>
              <tbody>{c.individuals.edges.map(({ node: i }: any) => (
                <tr key={i.accession}>
                  <td><Link href={`/individuals/${i.accession}`}>{i.accession}</Link></td><td>{sexLabel(i.sex)}</td><td class="num">{i.age ?? '—'}</td><td>{i.disease ?? '—'}</td><td>{i.pathologicalType ?? '—'}</td>
                  <td>{i.gsaHumanAccession ? <a href={gsaHumanHref(i.gsaHumanAccession)} target="_blank" rel="noopener noreferrer">{i.gsaHumanAccession} ↗</a> : '—'}</td>
                  <td class="num">{i.studies.length}</td>
                </tr>))}</tbody>
            </table></div>
            {c.individuals.pageInfo.hasNextPage ? <nav class="pager" aria-label="Pages"><Link href={`/collections/${c.accession}?after=${encodeURIComponent(c.individuals.pageInfo.endCursor)}`}>Next individuals ›</Link></nav> : null}
          </section>
        </article>
      )}
    </QueryView>
  );
}
