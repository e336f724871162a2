import { Sex } from '../src/domain.js';
import { formatAccession } from '../src/accessions.js';
import {
  FAMILY_HISTORY, GEOMETRY, MEDICAL_HISTORY, MODALITY_MIX, PATHOLOGY, SEED_COLLECTIONS, SEED_OWNER,
  SERIES_DESCRIPTIONS, SITES_BY_MODALITY, TREATMENTS,
} from './catalogue.js';
import type { PoolCodes } from './poolCodes.js';
import { Random } from './random.js';

/** Rows as the tables hold them (snake_case columns), ready for bulk insert. */
export type Row = Record<string, string | number | null>;

export interface SeedArchive {
  collections: Row[];
  individuals: Row[];
  studies: Row[];
  series: Row[];
  /** Images are produced lazily, series by series: 1.9 M rows need not sit in memory at once. */
  images: () => Generator<Row[]>;
  imageCount: number;
  counters: { collection: number; individual: number; study: number };
}

/** Projection imaging has a handful of images per series; cross-sectional hundreds. */
const IMAGES_BIAS: Record<string, number> = { CT: 1.6, MR: 1.0, PT: 1.4, NM: 0.3, US: 0.15, RF: 0.1, DX: 0.012, CR: 0.012, MG: 0.03 };

function scaled(n: number, scale: number, min: number): number {
  return Math.max(min, Math.round(n * scale));
}

function isoDate(base: Date, plusDays: number): string {
  return new Date(base.getTime() + plusDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The paper's four collections at `scale` (1 = the paper's 937 / 4,136 / 24,701 / 1,938,309),
 * deterministic for a given seed.
 */
export function generateArchive(scale: number, seed = 'obia-hub', codes: PoolCodes | null = null): SeedArchive {
  const rng = new Random(seed);
  const collections: Row[] = [], individuals: Row[] = [], studies: Row[] = [], series: Row[] = [];
  const imagesPerSeries: number[] = [];
  let gsaLinks = 0;

  SEED_COLLECTIONS.forEach((def, ci) => {
    const nInd = scaled(def.counts.individuals, scale, 2);
    const nStudy = Math.max(nInd, scaled(def.counts.studies, scale, 2));
    const nSeries = Math.max(nStudy, scaled(def.counts.series, scale, 2));
    const collectionId = ci + 1;
    collections.push({
      id: collectionId, accession: def.accession, title: def.title, description: def.description,
      keywords: JSON.stringify(def.keywords),
      search_text: [def.title, def.description, ...def.keywords].join(' ').toLowerCase(),
      disease: def.disease, submitter: SEED_OWNER.sub, submitter_organization: SEED_OWNER.institution,
      accessibility: def.accessibility, release_state: 'RELEASED', bio_project_accession: def.bioProject,
      created_at: '2023-01-15 00:00:00', released_at: '2023-03-01 00:00:00',
    });

    const studiesPerInd = rng.split(nStudy, nInd, 0.6);
    const seriesPerStudy = rng.split(nSeries, nStudy, 0.5);
    const collectionSeries: { row: Row; modality: string }[] = [];
    let studyCursor = 0;
    for (let ii = 0; ii < nInd; ii++) {
      const individualId = individuals.length + 1;
      const age = Math.min(89, Math.max(21, Math.round(rng.normal(def.disease === 'cervical cancer' ? 49 : 58, 11))));
      const linked = rng.next() < 0.62;
      individuals.push({
        id: individualId, accession: formatAccession('individual', individualId), collection_id: collectionId,
        sex: Sex.FEMALE, age, species: 'Homo sapiens', disease: def.disease,
        pathological_type: rng.weighted(PATHOLOGY[def.disease]!),
        medical_history: rng.pick(MEDICAL_HISTORY), family_history: rng.pick(FAMILY_HISTORY),
        treatment: rng.pick(TREATMENTS[def.disease]!),
        gsa_human_accession: linked ? `HRI${String(++gsaLinks).padStart(6, '0')}` : null,
      });
      const firstVisit = new Date(Date.UTC(2015 + rng.int(0, 6), rng.int(0, 11), rng.int(1, 28)));
      let dayOffset = 0;
      for (let si = 0; si < studiesPerInd[ii]!; si++, studyCursor++) {
        const studyId = studies.length + 1;
        const nSer = seriesPerStudy[studyCursor]!;
        const primary = rng.weighted(MODALITY_MIX);
        const modalities = new Set<string>();
        for (let k = 0; k < nSer; k++) {
          // Most series of a study share its primary modality (a PET-CT or MR exam), a few differ.
          const modality = rng.next() < 0.85 ? primary : rng.weighted(MODALITY_MIX);
          modalities.add(modality);
          const row: Row = {
            id: series.length + collectionSeries.length + 1, uid: rng.uid(), study_id: studyId,
            individual_id: individualId, collection_id: collectionId, modality,
            anatomical_site: rng.weighted(SITES_BY_MODALITY[modality]!),
            description: rng.pick(SERIES_DESCRIPTIONS[modality]!), series_number: k + 1, image_count: 0, published: 1,
          };
          collectionSeries.push({ row, modality });
        }
        studies.push({
          id: studyId, accession: formatAccession('study', studyId), study_instance_uid: rng.uid(),
          individual_id: individualId, collection_id: collectionId,
          description: `${[...modalities].join('/')} ${def.disease.split(' ')[0]} ${si === 0 ? 'baseline' : 'follow-up'}`,
          study_date: isoDate(firstVisit, dayOffset), age_at_study: age + Math.floor(dayOffset / 365),
          modalities: JSON.stringify([...modalities].sort()),
        });
        dayOffset += rng.int(30, 240);
      }
    }
    const nImages = Math.max(nSeries, scaled(def.counts.images, scale, 2));
    const counts = rng.split(nImages, collectionSeries.length, 0.5, (i) => IMAGES_BIAS[collectionSeries[i]!.modality] ?? 1);
    collectionSeries.forEach(({ row }, i) => {
      row.image_count = counts[i]!;
      imagesPerSeries.push(counts[i]!);
      series.push(row);
    });
  });

  const imageCount = imagesPerSeries.reduce((a, b) => a + b, 0);
  function* images(): Generator<Row[]> {
    let imageId = 0;
    let batch: Row[] = [];
    for (let si = 0; si < series.length; si++) {
      const s = series[si]!;
      // One generator per series keeps image rows deterministic whatever the batch size.
      const r = new Random(`${seed}:image:${s.id}`);
      const g = GEOMETRY[s.modality as string]!;
      // No file, so no code of its own: a real image's code of the same kind, or none (issue 13).
      const pool = codes?.byPair.get(`${s.modality}:${s.anatomical_site}`) ?? codes?.byModality.get(s.modality as string) ?? [];
      for (let k = 0; k < imagesPerSeries[si]!; k++) {
        const frames = g.frames ?? 1;
        batch.push({
          id: ++imageId, uid: r.uid(), series_id: s.id as number, sop_class_uid: g.sopClass, instance_number: k + 1,
          rows: g.rows, columns: g.columns, frames, bits_allocated: g.bits,
          transfer_syntax_uid: '1.2.840.10008.1.2.1', sha256: r.hex(64),
          size: g.rows * g.columns * (g.bits / 8) * frames + 1800 + r.int(0, 600), hash_code: pool.length ? pool[r.uint32() % pool.length]! : (r.uint32(), null),
        });
        if (batch.length >= 2000) { yield batch; batch = []; }
      }
    }
    if (batch.length) yield batch;
  }

  return {
    collections, individuals, studies, series, images, imageCount,
    counters: { collection: collections.length + 1, individual: individuals.length + 1, study: studies.length + 1 },
  };
}
