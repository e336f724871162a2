import { useEffect, useState } from 'preact/hooks';
import { AGE_BINS, BROWSE_SERIES, browseFacets, SEXES, type BrowseFilter } from '../api/operations';
import { ErrorBox, Loading } from '../components/Status';
import { n, sexLabel } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link, navigate, useLocation } from '../router';

const PAGE = 25;
const list = (v: string | null) => (v ? v.split(',').filter(Boolean) : undefined);
const int = (v: string | null) => (v != null && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** The URL is the state: /browse?modality=CT,MR&sex=FEMALE&ageMin=40&… (bookmarkable, shareable). */
export function filterFromQuery(q: URLSearchParams): BrowseFilter {
  const f: BrowseFilter = {
    sex: list(q.get('sex')), modality: list(q.get('modality')), anatomicalSite: list(q.get('site')), collection: list(q.get('collection')),
    ageMin: int(q.get('ageMin')), ageMax: int(q.get('ageMax')), disease: q.get('disease') || undefined, keyword: q.get('q') || undefined,
    accessibility: (q.get('access') as BrowseFilter['accessibility']) || undefined,
    hasGsaHumanLink: q.get('gsa') === 'true' ? true : q.get('gsa') === 'false' ? false : undefined,
  };
  for (const k of Object.keys(f) as (keyof BrowseFilter)[]) if (f[k] === undefined) delete f[k];
  return f;
}

export function queryFromFilter(f: BrowseFilter): string {
  const q = new URLSearchParams();
  const put = (k: string, v: unknown) => { if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) q.set(k, Array.isArray(v) ? v.join(',') : String(v)); };
  put('q', f.keyword); put('disease', f.disease); put('sex', f.sex); put('ageMin', f.ageMin); put('ageMax', f.ageMax);
  put('modality', f.modality); put('site', f.anatomicalSite); put('access', f.accessibility); put('collection', f.collection); put('gsa', f.hasGsaHumanLink);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function toggle(values: string[] | undefined, v: string): string[] | undefined {
  const set = new Set(values ?? []);
  if (set.has(v)) set.delete(v); else set.add(v);
  return set.size ? [...set] : undefined;
}

function Facet(props: { legend: string; options: { value: string; label: string; count: number }[]; selected: (v: string) => boolean; onToggle: (v: string) => void; type?: 'checkbox' | 'radio'; name: string }) {
  return (
    <fieldset class="facet">
      <legend>{props.legend}</legend>
      {props.options.length === 0 ? <p class="muted">none</p> : null}
      {props.options.map((o) => {
        const id = `${props.name}-${o.value}`.replace(/[^A-Za-z0-9_-]/g, '_');
        return (
          <div class="facet-option" key={o.value}>
            <input type="checkbox" id={id} name={props.name} value={o.value} checked={props.selected(o.value)} onChange={() => props.onToggle(o.value)} />
            <label for={id}>{o.label} <span class="count" aria-label={`${o.count} series`}>{n(o.count)}</span></label>
          </div>
        );
      })}
    </fieldset>
  );
}

export function Browse() {
  useTitle('Browse');
  const loc = useLocation();
  const filter = filterFromQuery(loc.query);
  const after = loc.query.get('after') || undefined;
  const facetsQuery = browseFacets(filter);
  const facets = useQuery(facetsQuery.query, facetsQuery.variables);
  const results = useQuery(BROWSE_SERIES, { filter, first: PAGE, after });
  const [keyword, setKeyword] = useState(filter.keyword ?? '');
  useEffect(() => setKeyword(filter.keyword ?? ''), [filter.keyword]);

  const ready = !!facets.data && !!results.data;
  useEffect(() => {
    // The browser test reads this: milliseconds from navigation start to facets and results shown.
    if (ready && (window as any).__browseReadyMs === undefined) (window as any).__browseReadyMs = performance.now();
  }, [ready]);

  const apply = (f: BrowseFilter) => navigate(`/browse${queryFromFilter(f)}`);
  const set = <K extends keyof BrowseFilter>(k: K, v: BrowseFilter[K]) => apply({ ...filter, [k]: v });
  const d = facets.data;
  const spec = (alias: string) => (d?.[alias]?.total?.series ?? 0) as number;
  const diseaseCounts = new Map<string, number>();
  if (d) {
    const diseaseOf = new Map<string, string>(d.collections.edges.map((e: any) => [e.node.accession, e.node.disease]));
    for (const r of d.byDisease.byCollection) {
      const dz = diseaseOf.get(r.key);
      if (dz) diseaseCounts.set(dz, (diseaseCounts.get(dz) ?? 0) + r.series);
    }
  }
  const active = Object.keys(filter).length > 0;

  return (
    <div class="browse" data-state={ready ? 'ready' : 'loading'}>
      <h1>Browse series</h1>
      <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); set('keyword', keyword.trim() || undefined); }}>
        <label for="keyword">Keyword (title, description or keywords of a collection)</label>
        <div class="row">
          <input id="keyword" type="search" value={keyword} onInput={(e) => setKeyword((e.target as HTMLInputElement).value)} placeholder="e.g. ovarian" />
          <button type="submit">Search</button>
          {active ? <button type="button" class="secondary" onClick={() => navigate('/browse')}>Clear all filters</button> : null}
        </div>
      </form>
      <div class="browse-layout">
        <aside class="facets" aria-label="Filters">
          {facets.error ? <ErrorBox error={facets.error} retry={facets.reload} /> : !d ? <Loading label="Counting…" /> : (
            <>
              <Facet legend="Modality" name="modality" options={d.byModality.byModality.map((r: any) => ({ value: r.key, label: r.key, count: r.series }))}
                selected={(v) => !!filter.modality?.includes(v)} onToggle={(v) => set('modality', toggle(filter.modality, v))} />
              <Facet legend="Anatomical site" name="site" options={d.bySite.byAnatomicalSite.map((r: any) => ({ value: r.key, label: r.key, count: r.series }))}
                selected={(v) => !!filter.anatomicalSite?.includes(v)} onToggle={(v) => set('anatomicalSite', toggle(filter.anatomicalSite, v))} />
              <Facet legend="Sex" name="sex" options={SEXES.map((s) => ({ value: s, label: sexLabel(s), count: spec(`sex_${s}`) })).filter((o) => o.count > 0 || filter.sex?.includes(o.value))}
                selected={(v) => !!filter.sex?.includes(v)} onToggle={(v) => set('sex', toggle(filter.sex, v))} />
              <fieldset class="facet">
                <legend>Age (years)</legend>
                {AGE_BINS.map(([label, min, max], i) => {
                  const on = filter.ageMin === min && filter.ageMax === max;
                  return (
                    <div class="facet-option" key={label}>
                      <input type="checkbox" id={`age-${i}`} checked={on} onChange={() => apply({ ...filter, ageMin: on ? undefined : min, ageMax: on ? undefined : max })} />
                      <label for={`age-${i}`}>{label} <span class="count">{n(spec(`age_${i}`))}</span></label>
                    </div>
                  );
                })}
                <form class="age-range" onSubmit={(e) => {
                  e.preventDefault();
                  const fd = new FormData(e.currentTarget as HTMLFormElement);
                  apply({ ...filter, ageMin: int(String(fd.get('ageMin'))), ageMax: int(String(fd.get('ageMax'))) });
                }}>
                  <label>From <input name="ageMin" type="number" min={0} max={150} value={filter.ageMin ?? ''} /></label>
                  <label>to <input name="ageMax" type="number" min={0} max={150} value={filter.ageMax ?? ''} /></label>
                  <button type="submit" class="secondary">Apply</button>
                </form>
              </fieldset>
              <Facet legend="Disease" name="disease" options={[...diseaseCounts].map(([v, c]) => ({ value: v, label: v, count: c }))}
                selected={(v) => filter.disease === v} onToggle={(v) => set('disease', filter.disease === v ? undefined : v)} />
              <Facet legend="Accessibility" name="access" options={(['OPEN', 'CONTROLLED'] as const).map((a) => ({ value: a, label: a === 'OPEN' ? 'Open' : 'Controlled', count: spec(`acc_${a}`) }))}
                selected={(v) => filter.accessibility === v} onToggle={(v) => set('accessibility', filter.accessibility === v ? undefined : v as BrowseFilter['accessibility'])} />
              <Facet legend="GSA-Human link" name="gsa" options={[{ value: 'true', label: 'Has genomic data', count: spec('gsa_true') }, { value: 'false', label: 'No GSA-Human link', count: spec('gsa_false') }]}
                selected={(v) => String(filter.hasGsaHumanLink) === v} onToggle={(v) => set('hasGsaHumanLink', String(filter.hasGsaHumanLink) === v ? undefined : v === 'true')} />
              <Facet legend="Collection" name="collection" options={d.byCollection.byCollection.map((r: any) => ({ value: r.key, label: `${r.key} ${d.collections.edges.find((e: any) => e.node.accession === r.key)?.node.title ?? ''}`, count: r.series }))}
                selected={(v) => !!filter.collection?.includes(v)} onToggle={(v) => set('collection', toggle(filter.collection, v))} />
            </>
          )}
        </aside>
        <section class="results" aria-labelledby="results-heading" aria-busy={results.loading}>
          <h2 id="results-heading">
            {results.data ? `${n(results.data.seriesList.totalCount)} series` : 'Series'}
            {d ? <span class="muted"> · {n(d.all.total.individuals)} individuals, {n(d.all.total.studies)} studies, {n(d.all.total.images)} images</span> : null}
          </h2>
          {results.error ? <ErrorBox error={results.error} retry={results.reload} /> : !results.data ? <Loading label="Finding series…" /> : (
            <>
              {results.data.seriesList.edges.length === 0 ? <p class="notice">No series match these filters. Remove one to widen the search.</p> : (
                <div class="table-wrap">
                  <table class="list">
                    <caption class="sr-only">Series matching the filters</caption>
                    <thead><tr><th scope="col">Series</th><th scope="col">Modality</th><th scope="col">Site</th><th scope="col" class="num">Images</th><th scope="col">Study</th><th scope="col">Individual</th><th scope="col">Collection</th></tr></thead>
                    <tbody>
                      {results.data.seriesList.edges.map(({ node: s }: any) => (
                        <tr key={s.uid}>
                          <td><Link href={`/series/${s.uid}`} class="series-link">{s.description || `Series ${s.seriesNumber ?? ''}`.trim()}</Link><div class="uid">{s.uid}</div></td>
                          <td>{s.modality}</td><td>{s.anatomicalSite ?? '—'}</td><td class="num">{n(s.imageCount)}</td>
                          <td><Link href={`/studies/${s.study.accession}`}>{s.study.accession}</Link><div class="muted">{s.study.studyDate ?? ''}</div></td>
                          <td><Link href={`/individuals/${s.individual.accession}`}>{s.individual.accession}</Link><div class="muted">{sexLabel(s.individual.sex)}{s.individual.age != null ? `, ${s.individual.age} y` : ''}</div></td>
                          <td><Link href={`/collections/${s.collection.accession}`}>{s.collection.accession}</Link> <span class={`badge ${s.collection.accessibility.toLowerCase()}`}>{s.collection.accessibility.toLowerCase()}</span></td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <nav class="pager" aria-label="Pages">
                {after ? <Link href={`/browse${queryFromFilter(filter)}`}>« First page</Link> : null}
                {after ? <button type="button" class="secondary" onClick={() => history.back()}>‹ Previous</button> : null}
                {results.data.seriesList.pageInfo.hasNextPage ? (
                  <Link href={`/browse${queryFromFilter(filter) || '?'}${queryFromFilter(filter) ? '&' : ''}after=${encodeURIComponent(results.data.seriesList.pageInfo.endCursor)}`} rel="next">Next page ›</Link>
                ) : null}
              </nav>
            </>
          )}
        </section>
      </div>
    </div>
  );
}
