import { generateGsaHuman, type GsaHumanIndividualRecord } from '../../seeds/genomics/index.js';

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
 * Records generated from the hub's seed archive at the same scale (seeds/genomics/gsaHuman.ts),
 * so every HRI the seeded hub links exists here.
 */
export class SeedGsaHumanSource implements GsaHumanSource {
  private readonly records: Map<string, GsaHumanIndividualRecord>;

  constructor(scale = Number(process.env.OBIA_SEED_SCALE ?? 0.02)) {
    this.records = new Map(generateGsaHuman(scale).map((r) => [r.accession, r]));
  }

  async byAccessions(accessions: readonly string[]) {
    return accessions.map((a) => this.records.get(a) ?? null);
  }
}
