import { INDIVIDUAL } from '../api/operations';
import { NotFound, QueryView } from '../components/Status';
import { date, gsaHumanHref, n, sexLabel } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link } from '../router';

export function IndividualPage({ accession }: { accession: string }) {
  useTitle(accession);
  const state = useQuery(INDIVIDUAL, { accession });
  return (
    <QueryView state={state} label="Loading the individual…">
      {({ individual: i }) => !i ? <NotFound what={`individual ${accession}`} /> : (
        <article>
          <nav class="crumbs" aria-label="Breadcrumb"><Link href={`/collections/${i.collection.accession}`}>{i.collection.accession}</Link> › {i.accession}</nav>
          <h1>Individual <span class="accession">{i.accession}</span></h1>
          <section aria-labelledby="clinical"><h2 id="clinical">Clinical data</h2>
            <dl class="facts">
              <div><dt>Sex</dt><dd>{sexLabel(i.sex)}</dd></div>
              <div><dt>Age at first examination</dt><dd>{i.age ?? '—'}</dd></div>
              <div><dt>Species</dt><dd><i>{i.species}</i></dd></div>
              <div><dt>Disease</dt><dd>{i.disease ?? '—'}</dd></div>
              <div><dt>Pathological type</dt><dd>{i.pathologicalType ?? '—'}</dd></div>
              <div><dt>Medical history</dt><dd>{i.medicalHistory ?? '—'}</dd></div>
              <div><dt>Family history</dt><dd>{i.familyHistory ?? '—'}</dd></div>
              <div><dt>Treatment</dt><dd>{i.treatment ?? '—'}</dd></div>
              <div><dt>GSA-Human</dt><dd>{i.gsaHumanAccession ? <a href={gsaHumanHref(i.gsaHumanAccession)} target="_blank" rel="noopener noreferrer">{i.gsaHumanAccession} ↗</a> : 'no genomic link'}</dd></div>
              <div><dt>Collection</dt><dd><Link href={`/collections/${i.collection.accession}`}>{i.collection.title}</Link></dd></div>
            </dl>
          </section>
          <section aria-labelledby="studies"><h2 id="studies">Studies ({i.studies.length})</h2>
            {i.studies.map((s: any) => (
              <div class="card" key={s.accession}>
                <h3><Link href={`/studies/${s.accession}`}>{s.accession}</Link> <span class="muted">{date(s.studyDate)}{s.ageAtStudy != null ? ` · age ${s.ageAtStudy}` : ''} · {s.modalities.join(', ')}</span></h3>
                {s.description ? <p>{s.description}</p> : null}
                <ul class="series-list">{s.series.map((r: any) => <li key={r.uid}><Link href={`/series/${r.uid}`}>{r.modality} {r.anatomicalSite ?? ''} {r.description ?? ''}</Link> <span class="muted">{n(r.imageCount)} images</span></li>)}</ul>
              </div>
            ))}
          </section>
        </article>
      )}
    </QueryView>
  );
}
