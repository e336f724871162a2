import { SERIES, SERIES_IMAGES } from '../api/operations';
import { AuthImage } from '../components/AuthImage';
import { DownloadButton } from '../components/Download';
import { FullViewerLink } from '../components/FullViewer';
import { SliceViewer } from '../components/SliceViewer';
import { NotFound, QueryView } from '../components/Status';
import { bytes, date, n, sexLabel } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link } from '../router';

/** The slice viewer, preview and image list: pixel data, asked for only when the policy shows it. */
function SeriesImages({ uid, modality, previewUrl }: { uid: string; modality: string; previewUrl: string }) {
  const state = useQuery(SERIES_IMAGES, { uid });
  return (
    <QueryView state={state} label="Loading the images…">
      {({ series }) => !series || series.images.edges.length === 0 ? <p class="notice">This series has no archived image files (metadata only).</p> : (
        <>
          <div class="series-view">
            <SliceViewer label={`${modality} series`} slices={series.images.edges.map((e: any) => e.node)} />
            <figure class="preview-figure">
              <AuthImage src={previewUrl} alt="Montage of up to nine images spread through the series" width={384} height={384} class="preview" />
              <figcaption>Series preview: up to nine images in instance order.</figcaption>
            </figure>
          </div>
          <section aria-labelledby="images"><h2 id="images">Images ({n(series.images.totalCount)})</h2>
            <div class="table-wrap"><table class="list compact">
              <thead><tr><th scope="col" class="num">Instance</th><th scope="col">SOPInstanceUID</th><th scope="col">Size</th><th scope="col">Frames</th><th scope="col">File</th><th scope="col">Similar</th></tr></thead>
              <tbody>{series.images.edges.slice(0, 100).map(({ node: im }: any) => (
                <tr key={im.uid}><td class="num">{im.instanceNumber ?? '—'}</td><td class="uid">{im.uid}</td><td>{im.columns}×{im.rows}</td><td>{im.frames}</td><td>{bytes(im.size)}</td>
                  <td><Link href={`/retrieval?uid=${im.uid}`}>Find similar</Link></td></tr>))}</tbody>
            </table></div>
          </section>
        </>
      )}
    </QueryView>
  );
}

export function SeriesPage({ uid }: { uid: string }) {
  useTitle(`Series ${uid}`);
  const state = useQuery(SERIES, { uid });
  return (
    <QueryView state={state} label="Loading the series…">
      {({ series: s }) => !s ? <NotFound what={`series ${uid}`} /> : (
        <article>
          <nav class="crumbs" aria-label="Breadcrumb"><Link href={`/collections/${s.collection.accession}`}>{s.collection.accession}</Link> › <Link href={`/individuals/${s.individual.accession}`}>{s.individual.accession}</Link> › <Link href={`/studies/${s.study.accession}`}>{s.study.accession}</Link> › series</nav>
          <h1>{s.modality} series{s.anatomicalSite ? ` · ${s.anatomicalSite}` : ''} <span class="muted">{s.description ?? ''}</span></h1>
          <dl class="facts">
            <div><dt>SeriesInstanceUID</dt><dd class="uid">{s.uid}</dd></div>
            <div><dt>Images</dt><dd>{n(s.imageCount)}</dd></div>
            <div><dt>Study</dt><dd><Link href={`/studies/${s.study.accession}`}>{s.study.accession}</Link> ({date(s.study.studyDate)})</dd></div>
            <div><dt>Individual</dt><dd><Link href={`/individuals/${s.individual.accession}`}>{s.individual.accession}</Link> ({sexLabel(s.individual.sex)}{s.individual.age != null ? `, ${s.individual.age}` : ''}{s.individual.disease ? `, ${s.individual.disease}` : ''})</dd></div>
            {s.reviewState ? <div><dt>Review</dt><dd>{s.reviewState.toLowerCase()}{s.review ? ` by ${s.review.reviewer}: ${s.review.note}` : ''}</dd></div> : null}
          </dl>
          <div class="actions">
            {s.collection.viewerCanViewThumbnails ? <FullViewerLink studyInstanceUid={s.study.studyInstanceUid} /> : null}
            {s.collection.viewerCanDownload ? <DownloadButton target={{ series: s.uid }} label="Download this series (DICOM zip)" /> : null}
            {s.collection.viewerCanRequestAccess ? <Link class="button" href={`/access/request/${s.collection.accession}`}>Request access to {s.collection.accession}</Link> : null}
          </div>
          {!s.collection.viewerCanViewThumbnails ? (
            <p class="notice">Images of this {s.collection.accessibility === 'CONTROLLED' ? 'controlled ' : ''}collection are shown only to users it is shared with. {s.collection.viewerCanRequestAccess ? <Link href={`/access/request/${s.collection.accession}`}>Request access</Link> : <Link href="/sign-in">Sign in</Link>}</p>
          ) : <SeriesImages uid={s.uid} modality={s.modality} previewUrl={s.previewUrl} />}
        </article>
      )}
    </QueryView>
  );
}
