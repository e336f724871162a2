import { useEffect, useState } from 'preact/hooks';
import { ApiError, gql } from '../api/client';
import { RETRIEVAL_OPTIONS, SIMILAR_IMAGES } from '../api/operations';
import { AuthImage } from '../components/AuthImage';
import { ErrorBox, Loading } from '../components/Status';
import { sexLabel } from '../format';
import { useQuery, useTitle } from '../hooks';
import { Link, useLocation } from '../router';

const MAX_BYTES = 20 * 1024 * 1024;

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(new ApiError(`could not read ${file.name}`, 'CLIENT_ERROR', 0));
    r.readAsDataURL(file);
  });
}

function Select(props: { id: string; label: string; options: string[]; value: string; onChange: (v: string) => void }) {
  return (
    <label for={props.id}>{props.label}
      <select id={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">any</option>
        {props.options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </label>
  );
}

/** The OBIA paper's "Image Retrieval": an image in, the 30 nearest archived images out. */
export function Retrieval() {
  useTitle('Image retrieval');
  const loc = useLocation();
  const fromUid = loc.query.get('uid');
  const options = useQuery(RETRIEVAL_OPTIONS);
  const [file, setFile] = useState<File | null>(null);
  const [modality, setModality] = useState('');
  const [site, setSite] = useState('');
  const [collection, setCollection] = useState('');
  const [results, setResults] = useState<any[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  // Which search the shown results answer (tests and screen readers can tell a new answer from the old).
  const [searchKey, setSearchKey] = useState(0);

  const search = async (image: { uid?: string; base64?: string }) => {
    setBusy(true); setError(null); setResults(null);
    const filter: Record<string, unknown> = {};
    if (modality) filter.modality = [modality];
    if (site) filter.anatomicalSite = [site];
    if (collection) filter.collection = [collection];
    try {
      const data = await gql(SIMILAR_IMAGES, { image, k: 30, filter });
      setResults(data.similarImages);
      setSearchKey((k) => k + 1);
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file && fromUid) return search({ uid: fromUid });
    if (!file) return setError(new ApiError('Choose a DICOM, PNG or JPEG file first.', 'BAD_USER_INPUT', 0));
    if (file.size > MAX_BYTES) return setError(new ApiError(`${file.name} is larger than 20 MB.`, 'BAD_USER_INPUT', 0));
    await search({ base64: await readBase64(file) });
  };
  useEffect(() => { if (fromUid) void search({ uid: fromUid }); }, [fromUid]);

  return (
    <>
      <h1>Image retrieval</h1>
      <p>Upload a DICOM, PNG or JPEG image to find the 30 most similar archived images (Hamming distance between 64-bit deep-hash codes; 0 is the same code). Only images you may see are searched.</p>
      <form class="panel retrieval-form" onSubmit={submit}>
        {fromUid ? <p>Starting from archived image <span class="uid">{fromUid}</span>; or upload another.</p> : null}
        <label for="query-image">Query image (DICOM, PNG or JPEG, at most 20 MB)</label>
        <input id="query-image" type="file" accept=".dcm,.dicom,application/dicom,image/png,image/jpeg" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        <div class="row filters">
          {options.error ? <ErrorBox error={options.error} retry={options.reload} /> : !options.data ? <Loading label="Loading filters…" /> : (
            <>
              <Select id="f-modality" label="Modality" options={options.data.statistics.byModality.map((r: any) => r.key)} value={modality} onChange={setModality} />
              <Select id="f-site" label="Anatomical site" options={options.data.statistics.byAnatomicalSite.map((r: any) => r.key)} value={site} onChange={setSite} />
              <Select id="f-collection" label="Collection" options={options.data.statistics.byCollection.map((r: any) => r.key)} value={collection} onChange={setCollection} />
            </>
          )}
        </div>
        <button type="submit" disabled={busy}>{busy ? 'Searching…' : 'Find similar images'}</button>
      </form>
      <ErrorBox error={error} />
      {busy ? <Loading label="Hashing the image and searching the archive…" /> : null}
      {results ? (
        <section aria-labelledby="nearest" class="results" data-query={searchKey}>
          <h2 id="nearest">{results.length} nearest images</h2>
          {results.length === 0 ? <p class="notice">No archived image you may see matches these filters.</p> : (
            <ol class="grid similar">
              {results.map((r, i) => (
                <li class="tile" key={r.image.uid}>
                  <AuthImage src={r.image.thumbnailUrl} alt={`Result ${i + 1}: ${r.image.series.modality} image, distance ${r.distance}`} width={128} height={128} />
                  <span class="distance">distance {r.distance}</span>
                  <span class="modality">{r.image.series.modality} · {r.image.series.anatomicalSite ?? '—'}</span>
                  <span class="muted">{r.image.series.individual.accession} ({sexLabel(r.image.series.individual.sex)}{r.image.series.individual.age != null ? `, ${r.image.series.individual.age}` : ''}) · {r.image.series.individual.disease ?? ''}</span>
                  <span class="links"><Link href={`/series/${r.image.series.uid}`}>Series</Link> · <Link href={`/collections/${r.image.series.collection.accession}`}>{r.image.series.collection.accession}</Link> · <Link href={`/retrieval?uid=${r.image.uid}`}>More like this</Link></span>
                </li>
              ))}
            </ol>
          )}
        </section>
      ) : null}
    </>
  );
}
