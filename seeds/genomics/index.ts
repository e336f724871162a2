import fs from 'node:fs';
import path from 'node:path';

/** A BioProject as seeds/genomics/bioprojects.json holds it. */
export interface BioProjectRecord {
  accession: string; title: string; description: string;
  organism: { name: string; taxonomyId: number };
  dataTypes: string[]; relevance: string; sampleScope: string; submitterOrganization: string;
  grants: { agency: string; number: string; title: string | null }[];
  publications: { title: string; journal: string | null; year: number | null; pmid: string | null; doi: string | null }[];
  releaseDate: string;
}

/** Read from the source tree (JSON is not copied into dist/ by tsc). */
export function loadBioProjects(): BioProjectRecord[] {
  const file = path.resolve(__dirname, '../../../seeds/genomics/bioprojects.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).records;
}

export { generateGsaHuman, generateImageSeedGsaHuman, type GsaHumanIndividualRecord } from './gsaHuman.js';
