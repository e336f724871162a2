import {
  FAMILY_HISTORY, MEDICAL_HISTORY, MODALITY_MIX, PATHOLOGY, SEED_COLLECTIONS, SITES_BY_MODALITY, TREATMENTS,
} from './catalogue.js';
import { SOURCES, type Pair, type SourceUnit } from './imageSources.js';
import { Random } from './random.js';

/**
 * The default archive's shape: how much of the paper's Table 1 each level keeps. Individuals,
 * studies and series keep their proportions between the four collections; studies per
 * individual and series per study are smaller than the paper's, so that every series can have
 * pixels of its own from the real sources and start-up stays well inside its time budget.
 */
export const DEFAULT_IMAGE_SCALE = { individuals: 0.01, studies: 0.005, series: 0.004 };
export type ImageScale = typeof DEFAULT_IMAGE_SCALE;

export interface PlannedSeries { modality: string; site: string; seriesNumber: number; uid: string; unit: SourceUnit }
export interface PlannedStudy { uid: string; studyId: string; date: string; description: string; series: PlannedSeries[] }
export interface PlannedIndividual {
  localPatientId: string;
  patientName: string;
  age: number;
  pathologicalType: string;
  medicalHistory: string;
  familyHistory: string;
  treatment: string;
  gsaHumanAccession: string | null;
  studies: PlannedStudy[];
}
export interface PlannedCollection { def: (typeof SEED_COLLECTIONS)[number]; individuals: PlannedIndividual[] }

export interface ImagePlan {
  collections: PlannedCollection[];
  series: number;
  images: number;
  /** The paper's (modality, site) pairs no real source here fits, with their share of the paper's series. */
  leftOut: { pair: Pair; share: number }[];
}

/** The paper's mix of (modality, site) pairs, as shares of all series. */
function paperPairs(): { pair: Pair; modality: string; site: string; share: number }[] {
  const total = MODALITY_MIX.reduce((s, [, w]) => s + w, 0);
  return MODALITY_MIX.flatMap(([modality, w]) => {
    const sites = SITES_BY_MODALITY[modality]!;
    const siteTotal = sites.reduce((s, [, sw]) => s + sw, 0);
    return sites.map(([site, sw]) => ({ pair: `${modality}:${site}` as Pair, modality, site, share: (w / total) * (sw / siteTotal) }));
  });
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');

/**
 * Draws the default archive: the four collections at `scale`, each series a (modality, site)
 * pair drawn by the paper's mix among the pairs a real source fits and still has distinct
 * images for, then given its source unit. Deterministic for a seed.
 */
export function planImageArchive(scale: ImageScale = DEFAULT_IMAGE_SCALE, seed = 'obia-hub-images'): ImagePlan {
  const rng = new Random(seed);
  const pairs = paperPairs();
  const capacity = new Map<Pair, number>();
  for (const p of pairs) if (SOURCES[p.pair]) capacity.set(p.pair, SOURCES[p.pair]!(1000).length);
  const demand = new Map<Pair, number>();
  const remaining = (pair: Pair) => (capacity.get(pair) ?? 0) - (demand.get(pair) ?? 0);
  const drawPair = (modality?: string): { modality: string; site: string; pair: Pair } | null => {
    const open = pairs.filter((p) => remaining(p.pair) > 0 && (!modality || p.modality === modality));
    if (open.length === 0) return null;
    const p = rng.weighted(open.map((o) => [o, o.share] as const));
    demand.set(p.pair, (demand.get(p.pair) ?? 0) + 1);
    return p;
  };

  let gsaLinks = 0;
  let patients = 0;
  const drafts: { def: PlannedCollection['def']; individuals: (Omit<PlannedIndividual, 'studies'> & { studies: (Omit<PlannedStudy, 'series'> & { series: Omit<PlannedSeries, 'unit'>[] })[] })[] }[] = [];
  for (const def of SEED_COLLECTIONS) {
    const nInd = Math.max(1, Math.round(def.counts.individuals * scale.individuals));
    const nStudy = Math.max(nInd, Math.round(def.counts.studies * scale.studies));
    const nSeries = Math.max(nStudy, Math.round(def.counts.series * scale.series));
    const studiesPerInd = rng.split(nStudy, nInd, 0.6);
    const seriesPerStudy = rng.split(nSeries, nStudy, 0.5);
    let studyCursor = 0;
    const individuals: (typeof drafts)[number]['individuals'] = [];
    for (let ii = 0; ii < nInd; ii++) {
      patients++;
      const age = Math.min(89, Math.max(21, Math.round(rng.normal(def.disease === 'cervical cancer' ? 49 : 58, 11))));
      const individual = {
        // The submitter's own hospital IDs and names: identifying data the archive must not keep.
        localPatientId: `GYN${String(20190000 + patients * 37).padStart(8, '0')}`,
        patientName: `SEED^PATIENT${String(patients).padStart(3, '0')}`,
        age, pathologicalType: rng.weighted(PATHOLOGY[def.disease]!), medicalHistory: rng.pick(MEDICAL_HISTORY),
        familyHistory: rng.pick(FAMILY_HISTORY), treatment: rng.pick(TREATMENTS[def.disease]!),
        gsaHumanAccession: rng.next() < 0.62 ? `HRI${String(++gsaLinks).padStart(6, '0')}` : null,
        studies: [] as (typeof drafts)[number]['individuals'][number]['studies'],
      };
      const firstVisit = new Date(Date.UTC(2015 + rng.int(0, 6), rng.int(0, 11), rng.int(1, 28)));
      let dayOffset = 0;
      for (let si = 0; si < studiesPerInd[ii]!; si++, studyCursor++) {
        const primary = drawPair();
        if (!primary) break;
        const series: Omit<PlannedSeries, 'unit'>[] = [{ modality: primary.modality, site: primary.site, seriesNumber: 1, uid: rng.uid() }];
        for (let k = 1; k < seriesPerStudy[studyCursor]!; k++) {
          // Most series of an examination share its modality; a few are of another.
          const p = (rng.next() < 0.85 ? drawPair(primary.modality) : null) ?? drawPair();
          if (p) series.push({ modality: p.modality, site: p.site, seriesNumber: k + 1, uid: rng.uid() });
        }
        const modalities = [...new Set(series.map((s) => s.modality))];
        individual.studies.push({
          uid: rng.uid(), studyId: String(si + 1), date: isoDay(new Date(firstVisit.getTime() + dayOffset * 86_400_000)),
          description: `${modalities.join('/')} ${def.disease.split(' ')[0]} ${si === 0 ? 'baseline' : 'follow-up'}`, series,
        });
        dayOffset += rng.int(30, 240);
      }
      individuals.push(individual);
    }
    drafts.push({ def, individuals });
  }

  // Each pair's source is cut into as many units as the plan drew of it.
  const units = new Map<Pair, SourceUnit[]>();
  for (const [pair, n] of demand) units.set(pair, SOURCES[pair]!(n));
  let series = 0, images = 0;
  const collections: PlannedCollection[] = drafts.map(({ def, individuals }) => ({
    def,
    individuals: individuals.map((ind) => ({
      ...ind,
      studies: ind.studies.map((st) => {
        const planned = st.series.map((s) => {
          const unit = units.get(`${s.modality}:${s.site}`)!.shift()!;
          series++; images += unit.images;
          return { ...s, unit };
        });
        // A study holding a received series keeps the date its files carry (de-identification shifts it).
        const fixed = planned.find((s) => s.unit.fixedStudyDate)?.unit.fixedStudyDate;
        return { ...st, date: fixed ?? st.date, series: planned };
      }),
    })),
  }));
  const leftOut = pairs.filter((p) => !SOURCES[p.pair]).map(({ pair, share }) => ({ pair, share }));
  return { collections, series, images, leftOut };
}
