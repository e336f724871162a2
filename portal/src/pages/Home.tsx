import { useState } from 'preact/hooks';
import { gql } from '../api/client';
import { HOME, LOOKUP } from '../api/operations';
import { BarChart } from '../components/Chart';
import { ErrorBox, QueryView } from '../components/Status';
import { n } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link, navigate } from '../router';

/** Where an accession or UID's page is. */
export function hrefOf(r: { __typename: string; accession?: string; uid?: string; series?: { uid: string } }): string {
  switch (r.__typename) {
    case 'Collection': return `/collections/${r.accession}`;
    case 'Individual': return `/individuals/${r.accession}`;
    case 'Study': return `/studies/${r.accession}`;
    case 'Series': return `/series/${r.uid}`;
    default: return `/series/${r.series!.uid}`;
  }
}

function AccessionSearch() {
  const [id, setId] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const { lookup } = await gql(LOOKUP, { id: id.trim() });
      if (!lookup) setError(new Error(`Nothing you may see has the accession or UID "${id.trim()}".`));
      else navigate(hrefOf(lookup));
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="accession">Find by accession or UID</label>
      <div class="row">
        <input id="accession" name="accession" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} placeholder="OBIA0001, I000001, S00000001 or a DICOM UID" required autoComplete="off" />
        <button type="submit" disabled={busy}>{busy ? 'Searching…' : 'Go'}</button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

export function Home() {
  useTitle('');
  const state = useQuery(HOME);
  return (
    <>
      <section class="hero">
        <h1>Open biomedical imaging, de-identified and linked to genomics</h1>
        <p>Browse collections by disease, modality and anatomical site, view series, search by image, and request access to controlled data.</p>
        <AccessionSearch />
      </section>
      <QueryView state={state} label="Loading the archive's statistics…">
        {(d) => (
          <>
            <section aria-labelledby="totals">
              <h2 id="totals">The archive</h2>
              <dl class="totals">
                <div><dt>Collections</dt><dd>{n(d.collections.totalCount)}</dd></div>
                <div><dt>Individuals</dt><dd>{n(d.statistics.total.individuals)}</dd></div>
                <div><dt>Studies</dt><dd>{n(d.statistics.total.studies)}</dd></div>
                <div><dt>Series</dt><dd>{n(d.statistics.total.series)}</dd></div>
                <div><dt>Images</dt><dd>{n(d.statistics.total.images)}</dd></div>
              </dl>
            </section>
            <section aria-labelledby="charts" class="charts">
              <h2 id="charts">Statistics</h2>
              <div class="chart-grid">
                <BarChart title="Images by collection (Table 1)" unit="images" data={d.statistics.byCollection.map((r: any) => ({ key: r.key, value: r.images }))} onSelect={(k) => navigate(`/collections/${k}`)} />
                <BarChart title="Series by modality (Table S1)" unit="series" data={d.statistics.byModality.map((r: any) => ({ key: r.key, value: r.series }))} onSelect={(k) => navigate(`/browse?modality=${encodeURIComponent(k)}`)} />
                <BarChart title="Series by anatomical site (Table S2)" unit="series" data={d.statistics.byAnatomicalSite.map((r: any) => ({ key: r.key, value: r.series }))} onSelect={(k) => navigate(`/browse?site=${encodeURIComponent(k)}`)} />
              </div>
            </section>
            <section aria-labelledby="collections">
              <h2 id="collections">Collections</h2>
              <table class="list">
                <thead><tr><th scope="col">Accession</th><th scope="col">Title</th><th scope="col">Disease</th><th scope="col">Access</th><th scope="col" class="num">Individuals</th><th scope="col" class="num">Series</th><th scope="col" class="num">Images</th></tr></thead>
                <tbody>
                  {d.collections.edges.map(({ node: c }: any) => {
                    const row = d.statistics.byCollection.find((r: any) => r.key === c.accession);
                    return (
                      <tr key={c.accession}>
                        <td><Link href={`/collections/${c.accession}`}>{c.accession}</Link></td>
                        <td>{c.title}</td><td>{c.disease}</td>
                        <td><span class={`badge ${c.accessibility.toLowerCase()}`}>{c.accessibility.toLowerCase()}</span></td>
                        <td class="num">{n(row?.individuals ?? 0)}</td><td class="num">{n(row?.series ?? 0)}</td><td class="num">{n(row?.images ?? 0)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          </>
        )}
      </QueryView>
    </>
  );
}
