import { loadBioProjects, type BioProjectRecord } from '../../seeds/genomics/index.js';

/**
 * Where BioProject records come from. This is the place to plug in a live source: implement
 * `byAccessions` against NGDC (https://ngdc.cncb.ac.cn/bioproject/) for PRJCA accessions or
 * NCBI E-utilities (esearch/efetch db=bioproject) for PRJNA/PRJEB/PRJDB, mapping each record
 * to BioProjectRecord, and pass it to startBioProjectSubgraph({ source }). Batch by accession:
 * the gateway sends all references of a query in one `_entities` call.
 */
export interface BioProjectSource {
  byAccessions(accessions: readonly string[]): Promise<(BioProjectRecord | null)[]>;
}

/** The seeded records in seeds/genomics/bioprojects.json (the default, and what tests use). */
export class SeedBioProjectSource implements BioProjectSource {
  private readonly records = new Map(loadBioProjects().map((r) => [r.accession, r]));

  async byAccessions(accessions: readonly string[]) {
    return accessions.map((a) => this.records.get(a) ?? null);
  }
}
