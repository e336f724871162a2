/**
 * The default archive's own images (seeds/), decoded as a query would be, labelled by their
 * series' (modality, site). The retrieval model serves one index for every image the archive
 * holds, so the trainer mixes these into its batches and `npm run eval:retrieval` checks that
 * their nearest neighbours keep their modality and site (a chest radiograph must find chest
 * radiographs, not chest CT).
 */
import { planImageArchive } from '../../seeds/imagePlan.js';
import { hamming } from './code';
import { decodeDicom } from './decode';
import type { Gray8Image } from './preprocess';

export interface SeedImage {
  /** `MODALITY:SITE` of the series, as the archive files it. */
  pair: string;
  /** The source the series was built from (seeds/images/ATTRIBUTION.md's key). */
  source: string;
  /** Series number within the plan, so neighbours in the same series can be told apart. */
  series: number;
  gray: Gray8Image;
}

/**
 * Sources that are slices of the evaluation sets (MedNIST val, brain-tumour MR): the trainer
 * must not learn from them (MedNIST's seed images are val queries; the brain set's file
 * indices are not the figshare indices its patient blocks are cut by).
 */
export const EVAL_SET_SOURCES = new Set(['mednist', 'figshare-brain-tumour']);

/** Every image of the default archive's plan (deterministic), in plan order. */
export async function seedArchiveImages(): Promise<SeedImage[]> {
  const plan = planImageArchive();
  const out: SeedImage[] = [];
  let n = 0;
  let uidCounter = 0;
  for (const c of plan.collections) {
    for (const ind of c.individuals) {
      for (const st of ind.studies) {
        for (const s of st.series) {
          const series = ++n;
          const files = s.unit.build({
            patientId: ind.localPatientId, patientName: ind.patientName, age: ind.age, studyInstanceUid: st.uid, studyDate: st.date,
            studyDescription: st.description, studyId: st.studyId, seriesInstanceUid: s.uid, seriesNumber: s.seriesNumber,
            seriesDescription: s.unit.description, modality: s.modality, site: s.site, uid: () => `2.25.${++uidCounter}`,
          });
          for (const f of files) out.push({ pair: `${s.modality}:${s.site}`, source: s.unit.source, series, gray: await decodeDicom(f) });
        }
      }
    }
  }
  return out;
}

/**
 * Which (modality, site) pairs count as the same kind of image for the neighbour check (the
 * trainer joins them to one class, training/train_hash.py SEED_CLASS): slices of one CT of the
 * abdomen and pelvis are filed under five sites, a chest CT angiography under two, and a chest
 * radiograph is DX or CR. Any other pair is its own group.
 */
const SEED_GROUPS: Record<string, string> = {
  'CT:ABDOMEN': 'CT abdomen/pelvis', 'CT:KIDNEY': 'CT abdomen/pelvis', 'CT:LIVER': 'CT abdomen/pelvis',
  'CT:ABDOMENPELVIS': 'CT abdomen/pelvis', 'CT:PELVIS': 'CT abdomen/pelvis',
  'CT:CHEST': 'CT chest', 'CT:LUNG': 'CT chest', 'DX:CHEST': 'chest X-ray', 'CR:CHEST': 'chest X-ray',
};

export function seedGroup(pair: string): string {
  return SEED_GROUPS[pair] ?? pair;
}

export interface NeighbourCheck {
  /** group → [images whose k nearest others are all of the group, images] */
  byGroup: Map<string, [number, number]>;
  /** every chest radiograph's k nearest are chest radiographs (test/seed/defaultArchive asks it of one) */
  chestXrayKept: boolean;
}

/**
 * For every seed image, are its k nearest other seed images (Hamming, ties by plan order) of
 * its group? Groups with fewer than k+1 images can pass only in part (their images' k nearest
 * must include others); the figure is what the archive's own similarImages would answer.
 */
export function seedNeighbourCheck(images: readonly SeedImage[], codes: readonly bigint[], k = 5): NeighbourCheck {
  const groups = images.map((i) => seedGroup(i.pair));
  const byGroup = new Map<string, [number, number]>();
  let chestXrayKept = true;
  codes.forEach((c, i) => {
    const order = codes.map((d, j) => [hamming(c, d), j] as const).filter(([, j]) => j !== i)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k);
    const ok = order.every(([, j]) => groups[j] === groups[i]);
    const e = byGroup.get(groups[i]) ?? [0, 0];
    byGroup.set(groups[i], [e[0] + (ok ? 1 : 0), e[1] + 1]);
    if (groups[i] === 'chest X-ray' && !ok) chestXrayKept = false;
  });
  return { byGroup: new Map([...byGroup].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))), chestXrayKept };
}
