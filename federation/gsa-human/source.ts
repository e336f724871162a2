import { generateGsaHuman, generateImageSeedGsaHuman, type GsaHumanIndividualRecord } from '../../seeds/genomics/index.js';

/**
 * Where GSA-Human records come from. This is the place to plug in a live source: implement
 * `byAccessions` against NGDC's GSA-Human (https://ngdc.cncb.ac.cn/gsa-human/), mapping each
 * individual with its dataset, experiments and runs to GsaHumanIndividualRecord, and pass it
 * to startGsaHumanSubgraph({ source }). Controlled-access metadata is public at GSA-Human; the
 * files are not, and this subgraph serves metadata only.
 */
export interface GsaHumanSource {
  byAccessions(accessions: readonly string[]): Promise<(GsaHumanIndividualRecord | null)[]>;
}

/**
 * Records generated from what the hub seeds (seeds/genomics/gsaHuman.ts), so every HRI the
 * seeded hub links exists here with the same dataset, disease, sex and age. A number is the
 * scale of the metadata-only seed (OBIA_SEED=metadata); without one the source follows the
 * hub's own environment: the default archive of real images unless OBIA_SEED=metadata.
 */
export class SeedGsaHumanSource implements GsaHumanSource {
  private readonly records: Map<string, GsaHumanIndividualRecord>;

  constructor(metadataScale?: number) {
    const scale = metadataScale ?? (process.env.OBIA_SEED === 'metadata' ? Number(process.env.OBIA_SEED_SCALE ?? 0.02) : null);
    const records = scale == null ? generateImageSeedGsaHuman() : generateGsaHuman(scale);
    this.records = new Map(records.map((r) => [r.accession, r]));
  }

  async byAccessions(accessions: readonly string[]) {
    return accessions.map((a) => this.records.get(a) ?? null);
  }
}
