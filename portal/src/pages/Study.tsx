import { STUDY } from '../api/operations';
import { AuthImage } from '../components/AuthImage';
import { DownloadButton } from '../components/Download';
import { FullViewerLink } from '../components/FullViewer';
import { NotFound, QueryView } from '../components/Status';
import { date, n, sexLabel } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link } from '../router';

export function StudyPage({ accession }: { accession: string }) {
  useTitle(accession);
  const state = useQuery(STUDY, { accession });
  return (
    <QueryView state={state} label="Loading the study…">
      {({ study: s }) => !s ? <NotFound what={`study ${accession}`} /> : (
        <article>
          <nav class="crumbs" aria-label="Breadcrumb"><Link href={`/collections/${s.collection.accession}`}>{s.collection.accession}</Link> › <Link href={`/individuals/${s.individual.accession}`}>{s.individual.accession}</Link> › {s.accession}</nav>
          <h1>Study <span class="accession">{s.accession}</span></h1>
          <dl class="facts">
            <div><dt>Date (shifted)</dt><dd>{date(s.studyDate)}</dd></div>
            <div><dt>Age at study</dt><dd>{s.ageAtStudy ?? '—'}</dd></div>
            <div><dt>Modalities</dt><dd>{s.modalities.join(', ')}</dd></div>
            <div><dt>Individual</dt><dd><Link href={`/individuals/${s.individual.accession}`}>{s.individual.accession}</Link> ({sexLabel(s.individual.sex)}{s.individual.age != null ? `, ${s.individual.age}` : ''})</dd></div>
            <div><dt>Description</dt><dd>{s.description ?? '—'}</dd></div>
            <div><dt>StudyInstanceUID</dt><dd class="uid">{s.studyInstanceUid}</dd></div>
          </dl>
          <div class="actions">
            {s.collection.viewerCanViewThumbnails ? <FullViewerLink studyInstanceUid={s.studyInstanceUid} /> : null}
            {s.collection.viewerCanDownload ? <DownloadButton target={{ study: s.accession }} label="Download this study (DICOM zip)" /> : null}
          </div>
          <section aria-labelledby="series"><h2 id="series">Series ({s.series.length})</h2>
            <ul class="grid">
              {s.series.map((r: any) => (
                <li class="tile" key={r.uid}>
                  <Link href={`/series/${r.uid}`}>
                    {s.collection.viewerCanViewThumbnails && r.imageCount > 0 ? <AuthImage src={r.previewUrl} alt={`Preview of ${r.modality} series ${r.description ?? r.uid}`} width={192} height={192} class="preview" /> : <span class="img-placeholder preview" aria-hidden="true">{r.modality}</span>}
                    <span class="tile-label">{r.modality} {r.anatomicalSite ?? ''} · {n(r.imageCount)} images</span>
                    <span class="muted">{r.description ?? ''}</span>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        </article>
      )}
    </QueryView>
  );
}
