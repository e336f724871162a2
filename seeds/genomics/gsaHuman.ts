import { SEED_COLLECTIONS } from '../catalogue.js';
import { generateArchive } from '../generator.js';
import { planImageArchive } from '../imagePlan.js';
import { Random } from '../random.js';

/** A GSA-Human run: one sequencing run (HRR…) and its files. */
export interface GsaHumanRunRecord { accession: string; fileType: string; fileNames: string[]; fileSize: number; readCount: number }

/** A GSA-Human experiment (HRX…): what was sequenced and how. */
export interface GsaHumanExperimentRecord {
  accession: string; bioSample: string; platform: string; libraryStrategy: string; librarySource: string;
  librarySelection: string; libraryLayout: 'PAIRED' | 'SINGLE'; runs: GsaHumanRunRecord[];
}

/** A GSA-Human individual (HRI…) with the dataset (HRA…) that releases it. */
export interface GsaHumanIndividualRecord {
  accession: string; individualName: string; datasetAccession: string; datasetTitle: string; bioProjectAccession: string;
  accessType: 'OPEN' | 'CONTROLLED'; sex: string; age: number | null; disease: string | null;
  bioSamples: string[]; experiments: GsaHumanExperimentRecord[]; releaseDate: string;
}

const STRATEGIES: readonly (readonly [{ strategy: string; source: string; selection: string; platforms: string[]; gb: number }, number])[] = [
  [{ strategy: 'WXS', source: 'GENOMIC', selection: 'Hybrid Selection', platforms: ['Illumina NovaSeq 6000', 'MGISEQ-2000'], gb: 12 }, 55],
  [{ strategy: 'RNA-Seq', source: 'TRANSCRIPTOMIC', selection: 'PolyA', platforms: ['Illumina NovaSeq 6000', 'Illumina HiSeq X Ten'], gb: 6 }, 30],
  [{ strategy: 'WGS', source: 'GENOMIC', selection: 'RANDOM', platforms: ['DNBSEQ-T7', 'Illumina NovaSeq 6000'], gb: 90 }, 10],
  [{ strategy: 'Targeted-Capture', source: 'GENOMIC', selection: 'Hybrid Selection', platforms: ['Illumina NextSeq 500'], gb: 2 }, 5],
];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** What the hub's seed knows of a linked individual: enough to write its GSA-Human side. */
interface LinkedIndividual {
  accession: string;
  /** Ordinal of the individual in its seed (names it within the dataset). */
  ordinal: number;
  def: (typeof SEED_COLLECTIONS)[number];
  sex: string;
  age: number | null;
  disease: string | null;
}

/**
 * GSA-Human records for the individuals the hub's default archive of real images links
 * (seeds/imagePlan.ts: the same plan `npm start` submits), so that HRI000003 here is the
 * sequencing side of the very individual whose clinical data named it there: the same dataset
 * (the collection's HRA…), BioProject, access, sex, age and disease.
 */
export function generateImageSeedGsaHuman(seed = 'obia-hub'): GsaHumanIndividualRecord[] {
  const linked: LinkedIndividual[] = [];
  let ordinal = 0;
  for (const c of planImageArchive().collections) {
    for (const i of c.individuals) {
      ordinal++;
      // The seed's clinical data: every patient of these gynaecological collections is female.
      if (i.gsaHumanAccession) linked.push({ accession: i.gsaHumanAccession, ordinal, def: c.def, sex: 'female', age: i.age, disease: c.def.disease });
    }
  }
  return records(linked, seed);
}

/**
 * GSA-Human records for every individual the full-scale metadata seed links (`HRI` + 6 digits,
 * numbered in individual order), generated from the same seed archive so that HRI000007 here
 * is the GSA-Human side of the very individual that links it there. `scale` must match the
 * hub's seed scale (OBIA_SEED_SCALE, 0.02 by default); the numbering depends on it.
 */
export function generateGsaHuman(scale: number, seed = 'obia-hub'): GsaHumanIndividualRecord[] {
  const archive = generateArchive(scale, seed);
  const collectionById = new Map(archive.collections.map((c) => [Number(c.id), SEED_COLLECTIONS.find((d) => d.accession === c.accession)!]));
  const linked: LinkedIndividual[] = [];
  for (const individual of archive.individuals) {
    const accession = individual.gsa_human_accession as string | null;
    if (!accession) continue;
    linked.push({
      accession, ordinal: Number(individual.id), def: collectionById.get(Number(individual.collection_id))!,
      sex: String(individual.sex).toLowerCase(), age: individual.age == null ? null : Number(individual.age),
      disease: individual.disease as string | null,
    });
  }
  return records(linked, seed);
}

function records(linked: LinkedIndividual[], seed: string): GsaHumanIndividualRecord[] {
  const out: GsaHumanIndividualRecord[] = [];
  let experimentNo = 0, runNo = 0;
  for (const { accession, ordinal, def, sex, age, disease } of linked) {
    // One generator per record: a record does not change when others are added.
    const rng = new Random(`${seed}:gsa-human:${accession}`);
    const hriNo = Number(accession.slice(3));
    const bioSamples = [`SAMC${pad(1_800_000 + 2 * hriNo - 1, 7)}`, `SAMC${pad(1_800_000 + 2 * hriNo, 7)}`]; // tumour, blood
    const experiments: GsaHumanExperimentRecord[] = [];
    const nExperiments = rng.int(1, 3);
    for (let e = 0; e < nExperiments; e++) {
      const kind = rng.weighted(STRATEGIES);
      const paired = kind.strategy !== 'Targeted-Capture';
      const runs: GsaHumanRunRecord[] = [];
      for (let r = 0, n = rng.int(1, 2); r < n; r++) {
        const run = `HRR${pad(800_000 + ++runNo, 6)}`;
        const fileSize = Math.round(kind.gb * 1e9 * Math.exp(rng.normal(0, 0.25)) / n);
        runs.push({
          accession: run, fileType: 'fastq',
          fileNames: paired ? [`${run}_f1.fq.gz`, `${run}_r2.fq.gz`] : [`${run}.fq.gz`],
          fileSize, readCount: Math.round(fileSize / (paired ? 150 : 75)),
        });
      }
      experiments.push({
        accession: `HRX${pad(500_000 + ++experimentNo, 6)}`,
        bioSample: kind.strategy === 'RNA-Seq' || e === 0 ? bioSamples[0]! : bioSamples[1]!,
        platform: rng.pick(kind.platforms), libraryStrategy: kind.strategy, librarySource: kind.source,
        librarySelection: kind.selection, libraryLayout: paired ? 'PAIRED' : 'SINGLE', runs,
      });
    }
    out.push({
      accession, individualName: `${def.gsaDataset}_P${pad(ordinal, 4)}`,
      datasetAccession: def.gsaDataset, datasetTitle: `${def.title} (sequencing)`, bioProjectAccession: def.bioProject,
      accessType: def.accessibility === 'OPEN' ? 'OPEN' : 'CONTROLLED', sex, age, disease,
      bioSamples, experiments, releaseDate: '2023-03-01',
    });
  }
  return out;
}
